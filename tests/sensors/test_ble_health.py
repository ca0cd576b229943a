"""The Bluetooth SIG health characteristics against published test vectors: Nordic Semiconductor's
Android-BLE-Common-Library (ble-common/src/test/.../callback/), Stanford Spezi's SpeziBluetooth
(Tests/SpeziBluetoothServicesTests/), bluetooth-sig-python's weight tests, and payloads checked by
hand against the GATT Specification Supplement. Any bytes either decode or raise DecodeError."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.sensors import ble_health as b
from drivers.sensors.readings import DecodeError


def x(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# --- Heart Rate (Nordic hr/HeartRateMeasurementDataCallbackTest.java) ---------------------------------

def test_heart_rate_vectors() -> None:
    assert b.heart_rate(x("00 55")).value("heart_rate") == 85
    m = b.heart_rate(x("04 FF"))
    assert m.value("heart_rate") == 255 and m.flags == {"contact_lost"}
    m = b.heart_rate(x("1E 55 32 00 21 00"))
    assert (m.value("heart_rate"), m.flags, m.extra["energy_kj"], m.extra["rr_seconds"]) == (85, {"contact_detected"}, 50, [33 / 1024])
    m = b.heart_rate(x("1F 01 01 32 01 01 00 02 01 FF FF"))
    assert (m.value("heart_rate"), m.extra["energy_kj"], m.extra["rr_seconds"]) == (257, 306, [1 / 1024, 258 / 1024, 65535 / 1024])
    with pytest.raises(DecodeError):
        b.heart_rate(x("17 01 01"))  # energy announced, missing


# --- Blood Pressure (Nordic bps/BloodPressureMeasurementDataCallbackTest.java) -------------------------

def test_blood_pressure_vectors() -> None:
    m = b.blood_pressure(x("1E 8A 00 58 00 78 00 00 00 04 11 14 29 3B 3C 00 01 27 00"))
    assert [(r.quantity, r.value, r.unit) for r in m.readings] == [
        ("systolic", 138, "mm[Hg]"), ("diastolic", 88, "mm[Hg]"), ("mean_pressure", 120, "mm[Hg]"), ("pulse_rate", 60, "/min")]
    assert m.taken_at is None  # year 0: unknown
    assert m.extra["user"] == 1
    assert m.flags == {"body_movement", "cuff_loose", "irregular_pulse", "improper_position"}  # status 0x0027
    m = b.blood_pressure(x("15 BD F0 0B 00 9F F0 3C 00 12 00"))
    assert [(r.value, r.unit, r.decimals) for r in m.readings[:3]] == [(18.9, "kPa", 1), (11.0, "kPa", 0), (15.9, "kPa", 1)]
    assert m.flags == {"cuff_loose", "pulse_below_range"}  # status 0x0012
    assert b.blood_pressure(x("00 BD F0 0B 00 9F F0")).value("systolic") == 18.9
    with pytest.raises(DecodeError):
        b.blood_pressure(x("03 02 03 04 05 06 07"))  # a time stamp announced, missing


# --- Temperature (Nordic ht/TemperatureMeasurementDataCallbackTest.java; hand-checked) -----------------

def test_temperature_vectors() -> None:
    m = b.temperature(x("06 B0 0E 00 FE DC 07 0C 05 0B 32 1B 04"))
    reading = m.readings[0]
    assert (reading.value, reading.unit, reading.decimals) == (37.6, "Cel", 2)
    assert m.taken_at == datetime(2012, 12, 5, 11, 50, 27) and m.extra["site"] == "finger"
    with pytest.raises(DecodeError):
        b.temperature(x("06 B0 0E 00 FE DC 07 0C 05 0B 32 1B"))  # the site announced, missing
    assert b.temperature(x("00 6F 01 00 FF")).value("temperature") == 36.7
    assert b.temperature(x("01 D2 03 00 FF")).readings[0].unit == "[degF]"
    nan = b.temperature(x("00 FF FF 7F 00")).readings[0]
    assert nan.value is None and "nan" in nan.flags  # the device has no value: never a number


# --- Pulse oximeter (Spezi PLXTests.swift) -------------------------------------------------------------

def test_plx_spot_check_vector() -> None:
    m = b.plx_spot_check(x("0F AC F3 BE F5 E8 07 0B 1D 17 08 39 20 40 22 00 00 66 E3"))
    assert (m.value("spo2"), m.value("pulse_rate"), m.value("perfusion_index")) == (94.0, 147.0, 8.7)
    assert m.taken_at == datetime(2024, 11, 29, 23, 8, 57)
    assert m.flags == {"measurement_ongoing", "questionable", "equipment_malfunction", "low_perfusion"}  # 0x4020, 0x000022 (bits 1, 5)


def test_plx_continuous_vectors() -> None:
    assert (b.plx_continuous(x("00 E8 F3 84 F3")).value("spo2"), b.plx_continuous(x("00 E8 F3 84 F3")).value("pulse_rate")) == (100.0, 90.0)
    m = b.plx_continuous(x("1C 5F 00 5A 00 20 00 00 00 00 57 F0"))
    assert (m.value("spo2"), m.value("pulse_rate"), m.value("perfusion_index"), m.flags) == (95, 90, 8.7, {"measurement_ongoing"})
    m = b.plx_continuous(x("1F DE F3 CA F3 CA F3 5A F5 D4 F3 B2 F2 20 01 00 00 00 7A E3"))
    assert (m.value("spo2"), m.value("pulse_rate"), m.value("perfusion_index")) == (99.0, 97.0, 8.9)
    assert (m.extra["spo2_fast"], m.extra["pulse_rate_fast"], m.extra["spo2_slow"], m.extra["pulse_rate_slow"]) == (97.0, 137.0, 98.0, 69.0)
    assert m.flags == {"measurement_ongoing", "fully_qualified"}  # 0x0120


# --- Weight (bluetooth-sig-python test_weight_measurement.py) --------------------------------------

def test_weight_vectors() -> None:
    assert (b.weight(x("00 B0 36")).value("weight"), b.weight(x("00 B0 36")).readings[0].unit) == (70.0, "kg")
    assert (b.weight(x("01 54 3D")).value("weight"), b.weight(x("01 54 3D")).readings[0].unit) == (157.0, "[lb_av]")
    assert b.weight(x("02 B0 36 E7 07 0C 19 0E 1E 2D")).taken_at == datetime(2023, 12, 25, 14, 30, 45)
    m = b.weight(x("0C B0 36 05 F5 00 D6 06"))
    assert (m.value("weight"), m.extra["user"], m.value("bmi"), m.value("height")) == (70.0, 5, 24.5, 1.75)
    failed = b.weight(x("00 FF FF")).readings[0]
    assert failed.value is None and failed.flags == {"measurement_unsuccessful"}


# --- Glucose (Nordic glucose/GlucoseMeasurementDataCallbackTest.java; hand-checked) -------------------

def test_glucose_vectors() -> None:
    m = b.glucose(x("1B 01 00 E3 07 02 1B 0B 0A 1E FB FF 1E 00 12 05 01"))
    assert m.extra["sequence"] == 1 and m.taken_at == datetime(2019, 2, 27, 11, 5, 30)  # 11:10:30 minus 5 minutes
    assert (m.extra["sample"], m.extra["site"], m.extra["context_follows"]) == ("capillary_plasma", "finger", True)
    assert m.flags == {"battery_low", "sample_size_insufficient", "temperature_too_low"}  # 0x0105
    mg = b.glucose(x("02 2A 00 E8 07 03 0F 0E 1E 2D 5A B0 11"))
    assert (mg.extra["sequence"], mg.value("glucose"), mg.readings[0].unit) == (42, 90.0, "mg/dL")
    assert mg.taken_at == datetime(2024, 3, 15, 14, 30, 45)
    mmol = b.glucose(x("06 2A 00 E8 07 03 0F 0E 1E 2D 37 C0 11"))
    assert (mmol.value("glucose"), mmol.readings[0].unit, mmol.readings[0].decimals) == (5.5, "mmol/L", 1)


@pytest.mark.parametrize("decode", list(b.DECODERS.values()), ids=list(b.DECODERS))
@given(data=st.binary(max_size=40))
def test_any_bytes_decode_or_raise_the_decoders_error(decode, data: bytes) -> None:  # noqa: ANN001
    try:
        decode(data)
    except DecodeError:
        pass
