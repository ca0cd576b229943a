"""Live vitals: what the sensors measure now, turned into what a nurse records.

Every measurement a sensor sends updates the latest value of each quantity it carries (SpO2, pulse
rate, blood pressure…). From these, a *held* value per fiche vital (`agent/dossiers/fiche.py`
VITALS): the value one tap records into the dossier. A streaming device's value is held only once
it has stayed within its tolerance for a few seconds with the device saying it measures (a pulse
oximeter settling after the finger went in); a device that measures once (a blood pressure cuff, a
thermometer, a scale) is held as soon as its result arrives. A value the fiche would refuse as a
typo (`fiche.plausible`) is never held; the device's own warnings (finger out, cuff loose) travel
with it.

The units recorded are the fiche's (mmHg, °C, kg, g/L); the LOINC code and UCUM unit of the fiche's
VITALS go with the record for the regional server (FHIR Observation, issue 13).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from agent.dossiers.fiche import VITALS, plausible
from drivers.sensors.readings import Measurement, Reading

# What a device says of itself, in the words a nurse and a doctor read beside the value. The first
# group means it is not measuring: whatever number it shows is not the resident's, nothing is held.
NOT_MEASURING_WORDS = {
    "sensor_off": "capteur retiré", "searching": "recherche du pouls", "searching_too_long": "pas de pouls trouvé",
    "sensor_disconnected": "capteur débranché", "sensor_unconnected": "capteur débranché", "measuring": "mesure en cours",
    "cuff_loose": "brassard mal mis", "measurement_unsuccessful": "mesure échouée", "calibrating": "étalonnage",
    "unavailable": "valeur indisponible", "invalid": "valeur invalide", "out_of_track": "signal perdu",
    "equipment_malfunction": "appareil en panne", "sensor_malfunction": "capteur en panne", "sensor_malfunctioning": "capteur en panne",
    "general_device_fault": "appareil en panne", "sample_size_insufficient": "goutte trop petite", "strip_insertion_error": "bandelette mal insérée",
    "strip_type_incorrect": "bandelette inadaptée", "read_interrupted": "lecture interrompue", "demonstration": "mode démonstration",
    "testing": "mode test", "error": "erreur de l'appareil", "sensor_displaced": "capteur déplacé",
    "cancelled": "mesure annulée", "timeout": "mesure trop longue", "out_of_range": "hors de la plage de mesure",
    "overpressure": "surpression du brassard", "pneumatic_blockage": "tuyau du brassard bouché ou plié",
    "autozero_fault": "appareil en panne", "transducer_out_of_range": "appareil en panne", "calibration_fault": "étalonnage à refaire",
}
CAUTION_WORDS = {
    "irregular_pulse": "pouls irrégulier", "body_movement": "mouvement pendant la mesure", "movement": "mouvement pendant la mesure",
    "improper_position": "position incorrecte", "low_perfusion": "perfusion faible", "perfusion_low": "perfusion faible",
    "poor_signal": "signal faible", "inadequate_signal": "signal faible", "artifact": "signal perturbé", "erratic_signal": "signal perturbé",
    "questionable": "valeur douteuse", "questionable_pulse": "pouls douteux", "early_estimate": "estimation précoce",
    "battery_low": "pile faible", "pulse_above_range": "pouls hors plage", "pulse_below_range": "pouls hors plage",
    "result_above_range": "résultat hors plage", "result_below_range": "résultat hors plage", "spo2_dropping": "SpO2 en baisse", "spo2_low": "SpO2 basse",
    "sensor_alarm": "alarme du capteur", "temperature_too_high": "température de l'appareil trop haute",
    "temperature_too_low": "température de l'appareil trop basse", "time_fault": "horloge de l'appareil fausse",
}
NOT_MEASURING = frozenset(NOT_MEASURING_WORDS)
SAID = NOT_MEASURING | frozenset(CAUTION_WORDS)


def said(flags: frozenset[str] | set[str]) -> list[str]:
    """The device's status in French, the not-measuring words first; flags without words are not shown."""
    words = [NOT_MEASURING_WORDS[f] for f in sorted(flags) if f in NOT_MEASURING_WORDS]
    words += [CAUTION_WORDS[f] for f in sorted(flags) if f in CAUTION_WORDS]
    return list(dict.fromkeys(words))

TRANSIENT = frozenset({"cuff_pressure"})  # meaningful only while the device measures: gone when a message lacks it
CLOCK_AHEAD_SECONDS = 300  # a device's clock this far ahead of the cart's is still believed
RENEW_SECONDS = 60  # a steady stream's held value is given a new time this often
HOLD_SECONDS = 10 * 60  # a held value older than this is not offered for the dossier: another resident may be on the cart by now


@dataclass(frozen=True)
class VitalSource:
    """How one fiche vital is read from the sensors' quantities."""

    kind: str  # the fiche's VITALS key
    quantities: tuple[str, ...]  # all needed, in the fiche's order (systolic/diastolic)
    decimals: int
    steady_seconds: float  # how long a streaming device's value must stay within `tolerance` (0: what it sends is final)
    tolerance: float = 0.0
    alternatives: tuple[str, ...] = ()  # a quantity that stands for the first one (a heart rate strap's heart_rate for pulse)


SOURCES: dict[str, VitalSource] = {s.kind: s for s in (
    VitalSource("spo2", ("spo2",), 0, steady_seconds=5, tolerance=1),
    VitalSource("pulse", ("pulse_rate",), 0, steady_seconds=5, tolerance=3, alternatives=("heart_rate",)),
    VitalSource("blood_pressure", ("systolic", "diastolic"), 0, steady_seconds=0),
    VitalSource("temperature", ("temperature",), 1, steady_seconds=0),
    VitalSource("weight", ("weight",), 1, steady_seconds=0),
    VitalSource("glucose", ("glucose",), 2, steady_seconds=0),
)}
QUANTITY_KIND = {q: s.kind for s in SOURCES.values() for q in (*s.quantities, *s.alternatives)}


def in_fiche_unit(reading: Reading) -> float | None:
    """A reading in the unit the fiche records (°C, kg, mmHg, g/L), whatever the device sent."""
    if reading.value is None:
        return None
    convert = {"[degF]": lambda v: (v - 32) * 5 / 9, "[lb_av]": lambda v: v * 0.45359237, "kPa": lambda v: v * 7.50062,
               "mg/dL": lambda v: v / 100, "mmol/L": lambda v: v * 0.18016, "kg/L": lambda v: v * 1000}
    return convert.get(reading.unit, lambda v: v)(reading.value)


def implausible(reading: Reading) -> bool:
    """A number no resident shows (the fiche's ranges): a loose probe, a device fault, never a fever."""
    kind, value = QUANTITY_KIND.get(reading.quantity), in_fiche_unit(reading)
    if kind is None or value is None:
        return False
    return not VITALS[kind].low <= value <= VITALS[kind].high


@dataclass
class Latest:
    """The newest value of one quantity."""

    reading: Reading
    sensor: str
    at: datetime
    said_of_all: frozenset[str] = frozenset()  # what the device said of the whole message (kept apart: 60 a second)

    @property
    def flags(self) -> frozenset[str]:
        return self.reading.flags | self.said_of_all

    def public(self) -> dict[str, Any]:
        r, flags = self.reading, self.flags
        return {"quantity": r.quantity, "value": r.value, "unit": r.unit, "decimals": r.decimals, "flags": sorted(flags),
                "warnings": said(flags), "implausible": implausible(r), "sensor": self.sensor, "at": self.at.isoformat()}


@dataclass
class Held:
    """A value the nurse can record: steady (or final), plausible, recent."""

    kind: str
    value: str  # as the fiche stores it ("97", "135/85", "37.6")
    sensor: str
    device: str  # the sensor's name and model, as recorded with the value
    at: datetime  # when it was measured: the device's clock if believable, else when it arrived
    received: datetime  # when the cart heard it: what "recent" is measured from
    flags: frozenset[str] = frozenset()

    def public(self) -> dict[str, Any]:
        vital = VITALS[self.kind]
        return {"kind": self.kind, "label": vital.label, "value": self.value, "unit": vital.unit, "ucum": vital.ucum,
                "loinc": vital.loinc, "sensor": self.sensor, "device": self.device, "at": self.at.isoformat(),
                "received": self.received.isoformat(),
                "flags": sorted(self.flags), "warnings": said(self.flags)}


@dataclass
class _Run:
    """A streaming value's recent history, one entry per change (a 60 Hz oximeter repeats itself)."""

    changes: list[tuple[datetime, float]] = field(default_factory=list)

    def add(self, at: datetime, value: float, keep_seconds: float) -> None:
        if not self.changes or self.changes[-1][1] != value:
            self.changes.append((at, value))
        while len(self.changes) > 1 and (at - self.changes[1][0]).total_seconds() >= keep_seconds:
            del self.changes[0]  # the entry before the window's start is still the value at its start

    def steady(self, at: datetime, seconds: float, tolerance: float) -> bool:
        if not self.changes or (at - self.changes[0][0]).total_seconds() < seconds:
            return False
        values = [v for _, v in self.changes]
        return max(values) - min(values) <= tolerance


def _measured_at(device_time: datetime | None, received: datetime) -> tuple[datetime | None, frozenset[str]]:
    """When it was measured: the device's own time when it is believable; the arrival's, with the
    device's clock said to be wrong, when that clock is years off (never set: a thermometer at
    2012); None for a record older than the dossier's measures (a meter's memory, fetched on
    reconnection): shown, never offered for this resident."""
    if device_time is None:
        return received, frozenset()
    if device_time.tzinfo is None:  # a device's clock has no zone: the cart's local time
        device_time = device_time.astimezone()
    age = (received - device_time).total_seconds()
    if -CLOCK_AHEAD_SECONDS <= age <= HOLD_SECONDS:
        return device_time, frozenset()
    if age > 0 and device_time.year >= received.year - 1:
        return None, frozenset()
    return received, frozenset({"time_fault"})


def _news(held: Held, before: Held | None) -> bool:
    """A held value worth telling: another value or warning, or the same a minute later (a stream
    repeats itself 60 times a second; its held value keeps the time it settled)."""
    if before is None or (held.value, held.flags) != (before.value, before.flags):
        return True
    return (held.received - before.received).total_seconds() >= RENEW_SECONDS


class LiveVitals:
    """The latest value of each quantity and the held value of each fiche vital. Not thread-safe:
    fed on the agent's loop."""

    def __init__(self) -> None:
        self.latest: dict[tuple[str, str], Latest] = {}  # (quantity, sensor): a cuff's pulse beside the oximeter's
        self.held: dict[tuple[str, str], Held] = {}  # (kind, sensor): a blood pressure cuff's pulse beside the oximeter's
        self._runs: dict[tuple[str, str], _Run] = {}  # (sensor, quantity)

    def arrived(self, sensor: str, device: str, measurement: Measurement, at: datetime, streams: bool = True) -> list[Held]:
        """Take one measurement in; returns the held values it changed. A streaming device's values
        (an oximeter's) must settle; another's (a cuff's result, its pulse too) are final."""
        for reading in measurement.readings:
            if reading.quantity != "pleth":
                self.latest[(reading.quantity, sensor)] = Latest(reading, sensor, at, measurement.flags)
        for quantity in TRANSIENT.difference(r.quantity for r in measurement.readings):
            self.latest.pop((quantity, sensor), None)
        taken, clock_flags = _measured_at(measurement.taken_at, at)
        if taken is None:
            return []  # an old stored record: its values show, nothing is offered
        if clock_flags:
            measurement = replace(measurement, flags=measurement.flags | clock_flags)
        changed, present = [], {r.quantity for r in measurement.readings}
        for source in SOURCES.values():
            if present.isdisjoint(source.quantities) and present.isdisjoint(source.alternatives):
                continue  # a pleth sample alone (75 a second from a Nonin) holds nothing
            held = self._hold(source, sensor, device, measurement, taken, at, streams)
            if held is not None and _news(held, self.held.get((source.kind, sensor))):
                self.held[(source.kind, sensor)] = held
                changed.append(held)
        return changed

    def _hold(self, source: VitalSource, sensor: str, device: str, m: Measurement, taken: datetime, at: datetime,
              streams: bool) -> Held | None:
        readings = [m.reading(q) for q in source.quantities]
        if readings[0] is None and source.alternatives:
            readings = [m.reading(source.alternatives[0])]
        if any(r is None for r in readings):
            return None
        flags = m.flags.union(*(r.flags for r in readings if r is not None))
        values = [in_fiche_unit(r) for r in readings if r is not None]
        if flags & NOT_MEASURING or any(v is None for v in values):
            self._runs.pop((sensor, source.kind), None)  # the settling starts again
            return None
        numbers = [float(v) for v in values if v is not None]
        if source.steady_seconds and streams:
            run = self._runs.setdefault((sensor, source.kind), _Run())
            run.add(at, numbers[0], source.steady_seconds)
            if not run.steady(at, source.steady_seconds, source.tolerance):
                return None
        text = "/".join(f"{n:.{source.decimals}f}" for n in numbers)
        stored = plausible(source.kind, text)
        if stored is None:
            return None
        return Held(source.kind, stored, sensor, device, taken, at, frozenset(flags & SAID))  # not a beat's beep: the words only

    def recordable(self, wanted: list[tuple[str, str]], now: datetime) -> dict[tuple[str, str], Held]:
        """The held values of these (kind, sensor) recent enough to go into a dossier."""
        return {key: h for key in wanted if (h := self.held.get(key)) is not None and (now - h.received).total_seconds() <= HOLD_SECONDS}

    def forget_held(self) -> None:
        """A new check-up begins: nothing measured before it may be recorded with it."""
        self.held.clear()
        self._runs.clear()

    def sensor_gone(self, sensor: str) -> None:
        """Its latest values are no longer true; what it held stays (measured, and timed)."""
        for key in [k for k in self.latest if k[1] == sensor]:
            del self.latest[key]
        for key in [k for k in self._runs if k[0] == sensor]:
            del self._runs[key]
