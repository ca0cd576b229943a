"""What a decoder hands over: readings of named quantities, each with its UCUM unit, its precision
(the device's own decimals: 37.6 is not 37.60) and the device's status words carried through,
never dropped (finger out, cuff loose, searching). No I/O, no clock: a reading's time is the
device's when it sent one, else the transport stamps it on arrival."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class DecodeError(ValueError):
    """Bytes that are not a valid message of the protocol; the one error decoders raise."""


@dataclass(frozen=True)
class Reading:
    quantity: str  # spo2, pulse_rate, pleth, perfusion_index, systolic, diastolic, mean_pressure, temperature, weight, bmi, height, glucose, heart_rate
    value: float | None  # None: the device said it has no value now (NaN, "not at this resolution", a sentinel)
    unit: str  # UCUM: %, /min, mm[Hg], kPa, Cel, [degF], kg, [lb_av], kg/m2, m, [in_i], mg/dL, mmol/L, 1
    decimals: int = 0  # the precision the device gave
    flags: frozenset[str] = frozenset()  # the device's own status, in words (finger_out, cuff_loose…)


@dataclass(frozen=True)
class Measurement:
    """One message's readings, with what the device said of itself."""

    readings: tuple[Reading, ...]
    taken_at: datetime | None = None  # the device's clock, when the message carries it
    flags: frozenset[str] = frozenset()
    extra: dict[str, object] = field(default_factory=dict)  # e.g. a user id, a sequence number, RR intervals

    def value(self, quantity: str) -> float | None:
        return next((r.value for r in self.readings if r.quantity == quantity), None)

    def reading(self, quantity: str) -> Reading | None:
        return next((r for r in self.readings if r.quantity == quantity), None)
