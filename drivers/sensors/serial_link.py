"""A serial sensor's line (pyserial): opened by its configured path (a /dev/serial/by-id name on
the cart, a pseudo-terminal in tests), read in a thread, each chunk fed to the protocol's decoder.
The cable pulled: the port reopened every second until it is back. A device that stops talking is
`silent` after a few seconds, never shown as its last value.

States: connecting → connected (measurements arrive) → silent (none for `silent_after` s) or
absent (the port cannot be opened, or went away).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import serial

from drivers.sensors.readings import Measurement

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0


class StreamDecoder(Protocol):
    def feed(self, data: bytes) -> list[Measurement]: ...


class SerialSensor:
    def __init__(self, path: str, baud: int, decoder: Callable[[], StreamDecoder],
                 on_measurement: Callable[[Measurement], None], on_state: Callable[[str, str | None], None],
                 silent_after: float = 3.0) -> None:
        self.path, self.baud, self.decoder = path, baud, decoder
        self.on_measurement, self.on_state = on_measurement, on_state
        self.silent_after = silent_after
        self.state = "connecting"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"serial {path}")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(3)

    def _say(self, state: str, reason: str | None = None) -> None:
        if state != self.state:
            self.state = state
            self.on_state(state, reason)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                port = serial.Serial(self.path, self.baud, timeout=0.2)
            except (serial.SerialException, OSError) as error:
                self._say("absent", str(error))
                self._stop.wait(RETRY_SECONDS)
                continue
            try:
                self._read(port)
            except (serial.SerialException, OSError) as error:  # the cable pulled mid-stream
                self._say("absent", str(error))
            finally:
                port.close()
            self._stop.wait(RETRY_SECONDS)

    def _read(self, port: serial.Serial) -> None:
        decoder = self.decoder()  # a fresh one: no half packet from before the cable was pulled
        last = time.monotonic()
        while not self._stop.is_set():
            data = port.read(512)
            found = decoder.feed(data) if data else []
            for measurement in found:
                self.on_measurement(measurement)
            if found:
                last = time.monotonic()
                self._say("connected")
            elif time.monotonic() - last > self.silent_after:
                self._say("silent", "l'appareil n'envoie plus rien")
