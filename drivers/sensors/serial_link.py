"""A serial sensor's line (pyserial): opened by its configured path (a /dev/serial/by-id name on
the cart, a pseudo-terminal in tests) with its protocol's settings, read in a thread, each chunk
fed to the protocol's decoder. The host's part of the protocol is said here too: the greeting on
each connection (the Contec v7's "start live data"), the keep-alive (its "still connected", the
blood-pressure module's cuff-pressure poll), the answers the device's words call for (a finished
blood pressure: its result asked), and the commands asked by the agent (`command("measure")`).

The cable pulled: the port reopened every second until it is back. A device that stops talking is
`silent` after a few seconds, never shown as its last value; any decoded message is a sign of
life, a status with no value too (the blood-pressure module, idle, answers each poll so).

States: connecting → connected (messages arrive) → silent (none for `silent_after` s) or absent
(the port cannot be opened, or went away). The reason given with a state is French, for the nurse.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import serial

from drivers.sensors.protocols import SerialProtocol, StreamDecoder
from drivers.sensors.readings import Measurement

__all__ = ["SerialSensor", "StreamDecoder"]

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0
READ_WAIT = 0.05  # the longest a read waits for a first byte: the keep-alive's and the stop's granularity
ABSENT = "débranché ou éteint"
SILENT = "l'appareil n'envoie plus rien"


class SerialSensor:
    def __init__(self, path: str, protocol: SerialProtocol, on_measurement: Callable[[Measurement], None],
                 on_state: Callable[[str, str | None], None], silent_after: float | None = None) -> None:
        self.path, self.protocol = path, protocol
        self.on_measurement, self.on_state = on_measurement, on_state
        self.silent_after = protocol.silent_after if silent_after is None else silent_after
        self.state = "connecting"
        self._port: serial.Serial | None = None
        self._writing = threading.Lock()  # the reader thread and the agent's commands share the line
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"serial {path}")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(3)

    def command(self, name: str) -> bool:
        """Write the protocol's command `name` (e.g. "measure", "cancel" on a blood-pressure module);
        False when the protocol has no such command or the line is not open (absent, reconnecting)."""
        data = self.protocol.commands.get(name)
        if data is None:
            return False
        try:
            return self._write(data)
        except (serial.SerialException, OSError) as error:
            log.info("serial %s: %s not written: %s", self.path, name, error)
            return False

    def _write(self, data: bytes) -> bool:
        with self._writing:
            if self._port is None:
                return False
            self._port.write(data)
            return True

    def _say(self, state: str, reason: str | None = None) -> None:
        if state != self.state:
            self.state = state
            self.on_state(state, reason)

    def _run(self) -> None:
        p = self.protocol
        while not self._stop.is_set():
            try:
                port = serial.Serial(self.path, p.baud, bytesize=p.bytesize, parity=p.parity, stopbits=p.stopbits,
                                     xonxoff=p.xonxoff, timeout=READ_WAIT)
            except (serial.SerialException, OSError) as error:
                log.debug("serial %s: %s", self.path, error)
                self._say("absent", ABSENT)
                self._stop.wait(RETRY_SECONDS)
                continue
            try:
                with self._writing:
                    self._port = port
                self._read(port)
            except (serial.SerialException, OSError) as error:  # the cable pulled mid-stream
                log.info("serial %s: %s", self.path, error)
                self._say("absent", ABSENT)
            finally:
                with self._writing:
                    self._port = None
                port.close()
            self._stop.wait(RETRY_SECONDS)

    def _read(self, port: serial.Serial) -> None:
        p = self.protocol
        decoder = p.decoder()  # a fresh one: no half packet from before the cable was pulled
        if p.hello:
            self._write(p.hello)
        last = time.monotonic()
        next_keep_alive = last + p.keep_alive_every
        while not self._stop.is_set():
            data = port.read(max(1, port.in_waiting))  # at once what is there, else wait for a first byte
            found = decoder.feed(data) if data else []
            for measurement in found:
                self.on_measurement(measurement)
                for flag in measurement.flags & p.replies.keys():
                    self._write(p.commands[p.replies[flag]])
            now = time.monotonic()
            if found:
                last = now
                self._say("connected")
            elif now - last > self.silent_after:
                self._say("silent", SILENT)
            if p.keep_alive and now >= next_keep_alive:
                self._write(p.keep_alive)
                next_keep_alive = now + p.keep_alive_every
