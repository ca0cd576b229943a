"""What the serial tests listen with: a sensor on a simulated device's pseudo-terminal, and `Seen`,
what the sensor handed over (its measurements and the states it said, in order)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from drivers.sensors.protocols import SerialProtocol
from drivers.sensors.readings import Measurement
from drivers.sensors.serial_link import SerialSensor
from drivers.sensors.simulators import PtyPort, Simulator


class Seen:
    def __init__(self) -> None:
        self.measurements: list[Measurement] = []
        self.states: list[str] = []
        self.reasons: list[str | None] = []
        self.lock = threading.Lock()

    def measurement(self, m: Measurement) -> None:
        with self.lock:
            self.measurements.append(m)

    def state(self, state: str, reason: str | None) -> None:
        self.states.append(state)
        self.reasons.append(reason)

    def values(self, quantity: str) -> list[float | None]:
        with self.lock:
            return [m.value(quantity) for m in self.measurements if m.reading(quantity)]

    def with_reading(self, quantity: str) -> list[Measurement]:
        with self.lock:
            return [m for m in self.measurements if m.reading(quantity)]


@contextlib.contextmanager
def listening(link: Path, simulator: Simulator, protocol: SerialProtocol, silent_after: float,
              seen: Seen | None = None) -> Iterator[tuple[PtyPort, SerialSensor, Seen]]:
    """The device plugged in behind `link`, a sensor reading it into `seen`; both stopped on the way out."""
    device = PtyPort(link, simulator).plug()
    seen = seen or Seen()
    sensor = SerialSensor(str(device.link), protocol, seen.measurement, seen.state, silent_after=silent_after)
    sensor.start()
    try:
        yield device, sensor, seen
    finally:
        sensor.stop()
        device.pull()
