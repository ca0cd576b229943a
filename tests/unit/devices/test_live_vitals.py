"""What the kiosk offers to record, from the devices' own bytes (the simulators' packets through
the real decoders): an oximeter's values only once they have settled with a finger in; a cuff's
result at once; never a number the fiche would refuse, never what came before a check-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.devices.live_vitals import LiveVitals, implausible
from drivers.sensors.contec import OldFormat
from drivers.sensors.readings import Measurement, Reading
from drivers.sensors.simulators import Vitals, contec_old_packet
from drivers.sensors.suntech import NibpReplies, reply

START = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def oximeter_for(live: LiveVitals, seconds: float, vitals: Vitals, start: datetime = START) -> list:
    """`seconds` of a Contec CMS50D+ at 60 packets a second, decoded and taken in."""
    decoder, held = OldFormat(), []
    for n in range(int(seconds * 60)):
        for m in decoder.feed(contec_old_packet(vitals, n / 60, beat=n % 50 == 0)):
            held += live.arrived("serie-1", "Oxymètre", m, start + timedelta(seconds=n / 60))
    return held


def cuff_result(systolic: int, diastolic: int, rate: int, error: int = 0) -> Measurement:
    body = [systolic & 0xFF, systolic >> 8, diastolic & 0xFF, diastolic >> 8, 0, 0, *[0] * 8, rate, 0, 0, 0, error, 0, 0]
    return NibpReplies().feed(reply(*body))[0]


def test_an_oximeter_is_held_only_after_five_steady_seconds() -> None:
    live = LiveVitals()
    assert oximeter_for(live, 4.5, Vitals(spo2=96, pulse=70)) == []
    held = oximeter_for(live, 6, Vitals(spo2=96, pulse=70))
    assert [(h.kind, h.value) for h in held] == [("spo2", "96"), ("pulse", "70")]  # told once, not 60 times a second
    assert not held[0].flags  # a beat's beep is no warning


def test_a_finger_out_holds_nothing_and_settling_starts_again() -> None:
    live = LiveVitals()
    oximeter_for(live, 4, Vitals(spo2=96, pulse=70))
    oximeter_for(live, 1, Vitals(finger_in=False), start=START + timedelta(seconds=4))
    assert live.held == {}
    assert oximeter_for(live, 4, Vitals(spo2=96, pulse=70), start=START + timedelta(seconds=5)) == []


def test_a_wandering_value_is_not_steady() -> None:
    live, decoder = LiveVitals(), OldFormat()
    for n in range(600):
        vitals = Vitals(spo2=92 + (n // 60) % 4, pulse=70)  # 92..95 a second each
        for m in decoder.feed(contec_old_packet(vitals, n / 60, beat=False)):
            live.arrived("serie-1", "Oxymètre", m, START + timedelta(seconds=n / 60))
    assert ("spo2", "serie-1") not in live.held and ("pulse", "serie-1") in live.held


def test_a_cuff_result_is_held_at_once_and_an_error_never() -> None:
    live = LiveVitals()
    held = live.arrived("serie-2", "Tensiomètre", cuff_result(142, 86, 70), START, streams=False)
    assert sorted((h.kind, h.value) for h in held) == [("blood_pressure", "142/86"), ("pulse", "70")]
    live.forget_held()
    assert live.arrived("serie-2", "Tensiomètre", cuff_result(0, 0, 0, error=87), START, streams=False) == []
    assert live.latest[("systolic", "serie-2")].flags >= {"cuff_loose"}


def test_a_value_the_fiche_would_refuse_is_shown_as_such_and_never_held() -> None:
    live = LiveVitals()
    assert live.arrived("serie-2", "Tensiomètre", cuff_result(300, 20, 70), START, streams=False)[0].kind == "pulse"
    assert implausible(live.latest[("systolic", "serie-2")].reading)
    assert ("blood_pressure", "serie-2") not in live.held


def test_other_units_are_recorded_in_the_fiches() -> None:
    live = LiveVitals()
    fahrenheit = Measurement((Reading("temperature", 100.4, "[degF]", 1),))
    pounds = Measurement((Reading("weight", 154.0, "[lb_av]", 1),))
    glucose = Measurement((Reading("glucose", 5.5, "mmol/L", 1),))
    values = {h.kind: h.value for m in (fahrenheit, pounds, glucose) for h in live.arrived("ble-1", "Appareil", m, START, streams=False)}
    assert values == {"temperature": "38.0", "weight": "69.9", "glucose": "0.99"}


def test_only_recent_values_are_recordable() -> None:
    live = LiveVitals()
    live.arrived("serie-2", "Tensiomètre", cuff_result(142, 86, 70), START, streams=False)
    wanted = [("blood_pressure", "serie-2")]
    assert live.recordable(wanted, START + timedelta(minutes=9)) != {}
    assert live.recordable(wanted, START + timedelta(minutes=11)) == {}


def test_a_device_clock_in_the_past_is_not_believed_but_said() -> None:
    live = LiveVitals()
    thermometer = Measurement((Reading("temperature", 37.6, "Cel", 2),), taken_at=datetime(2012, 12, 5, 11, 50, 27, tzinfo=UTC))
    held = live.arrived("ble-1", "Thermomètre", thermometer, START, streams=False)[0]
    assert (held.value, held.at, held.flags) == ("37.6", START, frozenset({"time_fault"}))
    recent = Measurement((Reading("temperature", 37.2, "Cel", 1),), taken_at=START - timedelta(minutes=2))
    assert live.arrived("ble-1", "Thermomètre", recent, START, streams=False)[0].at == START - timedelta(minutes=2)


def test_an_old_record_from_a_meters_memory_is_not_offered() -> None:
    live = LiveVitals()
    stored = Measurement((Reading("glucose", 90.0, "mg/dL", 0),), taken_at=START - timedelta(hours=3))
    assert live.arrived("ble-2", "Glucomètre", stored, START, streams=False) == []
    assert live.latest[("glucose", "ble-2")].reading.value == 90.0  # shown as the meter's last, never recorded as today's
