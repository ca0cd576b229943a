"""The Bluetooth SIG health characteristics, decoded: bytes of a notification or indication in, a
`Measurement` out, no I/O. Byte 0 holds flags; the mandatory fields follow, then each optional
field in the specification's order when its flag is set; reserved flag bits are ignored; a payload
shorter than its flags require is a `DecodeError`. Little-endian throughout.

Sources: Bluetooth SIG GATT Specification Supplement (Heart Rate Measurement 0x2A37, Blood
Pressure Measurement 0x2A35, Temperature Measurement 0x2A1C, PLX Spot-check 0x2A5E and Continuous
0x2A5F, Weight Measurement 0x2A9D, Glucose Measurement 0x2A18); test vectors from Nordic
Semiconductor's Android-BLE-Common-Library and Stanford Spezi's SpeziBluetooth test suites
(tests/sensors/test_ble_health.py cites each).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from drivers.sensors.ieee11073 import Number, float32, sfloat
from drivers.sensors.readings import DecodeError, Measurement, Reading

HEART_RATE = "00002a37-0000-1000-8000-00805f9b34fb"
BLOOD_PRESSURE = "00002a35-0000-1000-8000-00805f9b34fb"
TEMPERATURE = "00002a1c-0000-1000-8000-00805f9b34fb"
PLX_SPOT_CHECK = "00002a5e-0000-1000-8000-00805f9b34fb"
PLX_CONTINUOUS = "00002a5f-0000-1000-8000-00805f9b34fb"
WEIGHT = "00002a9d-0000-1000-8000-00805f9b34fb"
GLUCOSE = "00002a18-0000-1000-8000-00805f9b34fb"


class _Cursor:
    """Reads fields in order; running past the end is a DecodeError naming what was missing."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.at, self.what = bytes(data), 0, what

    def take(self, n: int, field: str) -> bytes:
        if self.at + n > len(self.data):
            raise DecodeError(f"{self.what} : {field} manquant ({len(self.data)} octets)")
        chunk = self.data[self.at:self.at + n]
        self.at += n
        return chunk

    def u8(self, field: str) -> int:
        return self.take(1, field)[0]

    def u16(self, field: str) -> int:
        return int.from_bytes(self.take(2, field), "little")

    def s16(self, field: str) -> int:
        return int.from_bytes(self.take(2, field), "little", signed=True)

    def u24(self, field: str) -> int:
        return int.from_bytes(self.take(3, field), "little")

    def sfloat(self, field: str) -> Number:
        return sfloat(self.take(2, field))

    def float32(self, field: str) -> Number:
        return float32(self.take(4, field))

    def date_time(self) -> datetime | None:
        """Date Time (7 bytes); None when the year, month or day is 0 (unknown)."""
        raw = self.take(7, "horodatage")
        year, month, day, hour, minute, second = int.from_bytes(raw[:2], "little"), *raw[2:]
        try:
            return datetime(year, month, day, hour, minute, second) if year and month and day else None
        except ValueError:
            raise DecodeError(f"{self.what} : horodatage impossible") from None


def _reading(quantity: str, number: Number, unit: str, flags: frozenset[str] = frozenset()) -> Reading:
    return Reading(quantity, number.value, unit, number.decimals, flags | ({number.special} if number.special else frozenset()))


def _bits(word: int, names: dict[int, str]) -> frozenset[str]:
    return frozenset(name for bit, name in names.items() if word & (1 << bit))


# --- Heart Rate Measurement 0x2A37 ------------------------------------------------------------------

def heart_rate(data: bytes) -> Measurement:
    c = _Cursor(data, "fréquence cardiaque")
    flags = c.u8("drapeaux")
    rate = c.u16("fréquence") if flags & 0x01 else c.u8("fréquence")
    status = set()
    if flags & 0x04:
        status.add("contact_detected" if flags & 0x02 else "contact_lost")
    extra: dict[str, object] = {}
    if flags & 0x08:
        extra["energy_kj"] = c.u16("énergie dépensée")
    if flags & 0x10:
        rr = []
        while c.at < len(c.data):
            rr.append(c.u16("intervalle RR") / 1024)
        if not rr:
            raise DecodeError("fréquence cardiaque : intervalles RR annoncés, absents")
        extra["rr_seconds"] = rr
    return Measurement((Reading("heart_rate", float(rate), "/min"),), flags=frozenset(status), extra=extra)


# --- Blood Pressure Measurement 0x2A35 (and Intermediate Cuff Pressure 0x2A36) ------------------------

BP_STATUS = {0: "body_movement", 1: "cuff_loose", 2: "irregular_pulse", 5: "improper_position"}


def blood_pressure(data: bytes) -> Measurement:
    c = _Cursor(data, "tension artérielle")
    flags = c.u8("drapeaux")
    unit = "kPa" if flags & 0x01 else "mm[Hg]"
    readings = [_reading("systolic", c.sfloat("systolique"), unit), _reading("diastolic", c.sfloat("diastolique"), unit),
                _reading("mean_pressure", c.sfloat("pression moyenne"), unit)]
    taken = c.date_time() if flags & 0x02 else None
    if flags & 0x04:
        readings.append(_reading("pulse_rate", c.sfloat("pouls"), "/min"))
    extra: dict[str, object] = {}
    if flags & 0x08:
        user = c.u8("utilisateur")
        extra["user"] = None if user == 0xFF else user
    status: frozenset[str] = frozenset()
    if flags & 0x10:
        word = c.u16("état")
        status = _bits(word, BP_STATUS) | {0: frozenset(), 1: {"pulse_above_range"}, 2: {"pulse_below_range"}}.get((word >> 3) & 0x03, frozenset())
    return Measurement(tuple(readings), taken, frozenset(status), extra)


# --- Temperature Measurement 0x2A1C -----------------------------------------------------------------

TEMPERATURE_SITES = {1: "armpit", 2: "body", 3: "ear", 4: "finger", 5: "gastro_intestinal", 6: "mouth", 7: "rectum", 8: "toe", 9: "tympanum"}


def temperature(data: bytes) -> Measurement:
    c = _Cursor(data, "température")
    flags = c.u8("drapeaux")
    reading = _reading("temperature", c.float32("température"), "[degF]" if flags & 0x01 else "Cel")
    taken = c.date_time() if flags & 0x02 else None
    extra: dict[str, object] = {}
    if flags & 0x04:
        extra["site"] = TEMPERATURE_SITES.get(c.u8("site"), "unknown")
    return Measurement((reading,), taken, extra=extra)


# --- Pulse oximeter: PLX Spot-check 0x2A5E and Continuous 0x2A5F --------------------------------------

PLX_MEASUREMENT_STATUS = {5: "measurement_ongoing", 6: "early_estimate", 7: "validated", 8: "fully_qualified", 9: "from_storage",
                          10: "demonstration", 11: "testing", 12: "calibrating", 13: "unavailable", 14: "questionable", 15: "invalid"}
PLX_DEVICE_STATUS = {0: "extended_display_update", 1: "equipment_malfunction", 2: "signal_processing_irregularity",
                     3: "inadequate_signal", 4: "poor_signal", 5: "low_perfusion", 6: "erratic_signal", 7: "non_pulsatile_signal",
                     8: "questionable_pulse", 9: "signal_analysis_ongoing", 10: "sensor_interference", 11: "sensor_unconnected",
                     12: "unknown_sensor", 13: "sensor_displaced", 14: "sensor_malfunctioning", 15: "sensor_disconnected"}


def _plx_tail(c: _Cursor, has_status: bool, has_device: bool, has_pai: bool, readings: list[Reading]) -> frozenset[str]:
    status: set[str] = set()
    if has_status:
        status |= _bits(c.u16("état de la mesure"), PLX_MEASUREMENT_STATUS)
    if has_device:
        status |= _bits(c.u24("état du capteur"), PLX_DEVICE_STATUS)
    if has_pai:
        readings.append(_reading("perfusion_index", c.sfloat("indice de perfusion"), "%"))
    return frozenset(status)


def plx_spot_check(data: bytes) -> Measurement:
    c = _Cursor(data, "oxymètre (mesure ponctuelle)")
    flags = c.u8("drapeaux")
    readings = [_reading("spo2", c.sfloat("SpO2"), "%"), _reading("pulse_rate", c.sfloat("pouls"), "/min")]
    taken = c.date_time() if flags & 0x01 else None
    status = _plx_tail(c, bool(flags & 0x02), bool(flags & 0x04), bool(flags & 0x08), readings)
    if flags & 0x10:
        status |= {"device_clock_not_set"}
    return Measurement(tuple(readings), taken, status)


def plx_continuous(data: bytes) -> Measurement:
    c = _Cursor(data, "oxymètre (mesure continue)")
    flags = c.u8("drapeaux")
    readings = [_reading("spo2", c.sfloat("SpO2"), "%"), _reading("pulse_rate", c.sfloat("pouls"), "/min")]
    extra: dict[str, object] = {}
    for bit, name in ((0x01, "fast"), (0x02, "slow")):
        if flags & bit:
            extra[f"spo2_{name}"], extra[f"pulse_rate_{name}"] = c.sfloat(f"SpO2 {name}").value, c.sfloat(f"pouls {name}").value
    status = _plx_tail(c, bool(flags & 0x04), bool(flags & 0x08), bool(flags & 0x10), readings)
    return Measurement(tuple(readings), None, status, extra)


# --- Weight Measurement 0x2A9D ----------------------------------------------------------------------

def weight(data: bytes) -> Measurement:
    """Default resolutions (0.005 kg / 0.01 lb; height 0.001 m / 0.1 in): a scale announcing others
    in its Weight Scale Feature 0x2A9E would need them passed in."""
    c = _Cursor(data, "poids")
    flags = c.u8("drapeaux")
    imperial = bool(flags & 0x01)
    raw = c.u16("poids")
    readings = [Reading("weight", None if raw == 0xFFFF else round(raw * (0.01 if imperial else 0.005), 3),
                        "[lb_av]" if imperial else "kg", 2 if imperial else 3,
                        frozenset({"measurement_unsuccessful"}) if raw == 0xFFFF else frozenset())]
    taken = c.date_time() if flags & 0x02 else None
    extra: dict[str, object] = {}
    if flags & 0x04:
        user = c.u8("utilisateur")
        extra["user"] = None if user == 0xFF else user
    if flags & 0x08:
        readings.append(Reading("bmi", round(c.u16("IMC") * 0.1, 1), "kg/m2", 1))
        height = c.u16("taille")
        readings.append(Reading("height", round(height * (0.1 if imperial else 0.001), 3), "[in_i]" if imperial else "m", 1 if imperial else 3))
    return Measurement(tuple(readings), taken, extra=extra)


# --- Glucose Measurement 0x2A18 ---------------------------------------------------------------------

GLUCOSE_STATUS = {0: "battery_low", 1: "sensor_malfunction", 2: "sample_size_insufficient", 3: "strip_insertion_error",
                  4: "strip_type_incorrect", 5: "result_above_range", 6: "result_below_range", 7: "temperature_too_high",
                  8: "temperature_too_low", 9: "read_interrupted", 10: "general_device_fault", 11: "time_fault"}
GLUCOSE_TYPES = {1: "capillary_whole_blood", 2: "capillary_plasma", 3: "venous_whole_blood", 4: "venous_plasma",
                 5: "arterial_whole_blood", 6: "arterial_plasma", 7: "undetermined_whole_blood", 8: "undetermined_plasma",
                 9: "interstitial_fluid", 10: "control_solution"}
GLUCOSE_SITES = {1: "finger", 2: "alternate_site", 3: "earlobe", 4: "control_solution", 15: "not_available"}


def glucose(data: bytes) -> Measurement:
    c = _Cursor(data, "glycémie")
    flags = c.u8("drapeaux")
    extra: dict[str, object] = {"sequence": c.u16("numéro de séquence")}
    taken = c.date_time()
    if taken is not None and flags & 0x01:
        taken += timedelta(minutes=c.s16("décalage horaire"))
    elif flags & 0x01:
        c.s16("décalage horaire")
    readings: list[Reading] = []
    if flags & 0x02:
        number = c.sfloat("concentration")
        if flags & 0x04:  # mol/L: shown in mmol/L
            readings.append(Reading("glucose", None if number.value is None else round(number.value * 1000, max(0, number.decimals - 3)),
                                    "mmol/L", max(0, number.decimals - 3)))
        else:  # kg/L: shown in mg/dL
            readings.append(Reading("glucose", None if number.value is None else round(number.value * 100000, max(0, number.decimals - 5)),
                                    "mg/dL", max(0, number.decimals - 5)))
        kind = c.u8("type et site")
        extra["sample"], extra["site"] = GLUCOSE_TYPES.get(kind & 0x0F, "reserved"), GLUCOSE_SITES.get(kind >> 4, "reserved")
    status = _bits(c.u16("état du capteur"), GLUCOSE_STATUS) if flags & 0x08 else frozenset()
    extra["context_follows"] = bool(flags & 0x10)
    return Measurement(tuple(readings), taken, status, extra)


DECODERS: dict[str, Callable[[bytes], Measurement]] = {
    HEART_RATE: heart_rate, BLOOD_PRESSURE: blood_pressure, TEMPERATURE: temperature, PLX_SPOT_CHECK: plx_spot_check,
    PLX_CONTINUOUS: plx_continuous, WEIGHT: weight, GLUCOSE: glucose,
}
