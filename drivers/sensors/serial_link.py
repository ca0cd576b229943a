"""A serial sensor's line (pyserial): opened by its configured path (a /dev/serial/by-id name on
the cart, a pseudo-terminal in tests) with its protocol's settings, read as bytes arrive, each
chunk fed to the protocol's decoder. The host's part of the protocol is said here too: the greeting
on each connection (the Contec v7's "start live data"), the keep-alive (its "still connected", the
blood-pressure module's cuff-pressure poll), the answers the device's words call for (a finished
blood pressure: its result asked), and the commands asked by the agent (`command("measure")`).

The line is watched by an asyncio event loop (`add_reader` on the port's descriptor), not a thread
per sensor: the agent passes its own loop, so a packet is read, decoded and handed over in one
callback, with no thread to wake and no hop between threads (bench/README.md measured those as most
of a sensor's cost). Without a loop given, the sensor runs one of its own in a thread (tests, tools).

The cable pulled: the port reopened every second until it is back. A device that stops talking is
`silent` after a few seconds, never shown as its last value; any decoded message is a sign of
life, a status with no value too (the blood-pressure module, idle, answers each poll so).

States: connecting → connected (messages arrive) → silent (none for `silent_after` s) or absent
(the port cannot be opened, or went away). The reason given with a state is French, for the nurse.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable

import serial

from drivers.sensors.protocols import SerialProtocol, StreamDecoder
from drivers.sensors.readings import Measurement

__all__ = ["SerialSensor", "StreamDecoder"]

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0
TICK_SECONDS = 0.05  # how often silence and the keep-alive are looked at (the keep-alive's granularity)
ABSENT = "débranché ou éteint"
SILENT = "l'appareil n'envoie plus rien"


class SerialSensor:
    def __init__(self, path: str, protocol: SerialProtocol, on_measurement: Callable[[Measurement], None],
                 on_state: Callable[[str, str | None], None], silent_after: float | None = None,
                 loop: asyncio.AbstractEventLoop | None = None) -> None:
        """`on_measurement` and `on_state` are called on `loop` (the agent's), else on the sensor's own."""
        self.path, self.protocol = path, protocol
        self.on_measurement, self.on_state = on_measurement, on_state
        self.silent_after = protocol.silent_after if silent_after is None else silent_after
        self.state = "connecting"
        self._loop = loop
        self._thread: threading.Thread | None = None
        self._port: serial.Serial | None = None
        self._decoder: StreamDecoder | None = None
        self._last = self._next_keep_alive = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._stopped = False

    # --- from any thread ------------------------------------------------------------------------

    def start(self) -> None:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name=f"serial {self.path}")
            self._thread.start()
        self._on_loop(self._open)

    def stop(self) -> None:
        self._stopped = True
        done = threading.Event()

        def shut() -> None:
            self._close()
            done.set()
        self._on_loop(shut)
        if self._thread is not None:
            done.wait(3)
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(3)
            self._loop.close()
        elif not done.is_set() and not self._in_loop_thread():
            done.wait(3)

    def command(self, name: str) -> bool:
        """Write the protocol's command `name` (e.g. "measure", "cancel" on a blood-pressure module);
        False when the protocol has no such command or the line is not open (absent, reconnecting)."""
        data = self.protocol.commands.get(name)
        if data is None or self._port is None:
            return False
        self._on_loop(lambda: self._write(data))
        return True

    def _on_loop(self, work: Callable[[], None]) -> None:
        assert self._loop is not None, "start() first"
        if self._in_loop_thread():
            work()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(work)

    def _in_loop_thread(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    # --- on the loop ----------------------------------------------------------------------------

    def _say(self, state: str, reason: str | None = None) -> None:
        if state != self.state:
            self.state = state
            self.on_state(state, reason)

    def _open(self) -> None:
        if self._stopped:
            return
        p = self.protocol
        assert self._loop is not None
        try:
            port = serial.Serial(self.path, p.baud, bytesize=p.bytesize, parity=p.parity, stopbits=p.stopbits,
                                 xonxoff=p.xonxoff, timeout=0)
        except (serial.SerialException, OSError) as error:
            log.debug("serial %s: %s", self.path, error)
            self._say("absent", ABSENT)
            self._timer = self._loop.call_later(RETRY_SECONDS, self._open)
            return
        self._port, self._decoder = port, p.decoder()  # a fresh decoder: no half packet from before the cable was pulled
        self._last = time.monotonic()
        self._next_keep_alive = self._last + p.keep_alive_every
        self._loop.add_reader(port.fileno(), self._readable)
        if p.hello:
            self._write(p.hello)
        self._timer = self._loop.call_later(TICK_SECONDS, self._tick)

    def _readable(self) -> None:
        port, decoder, p = self._port, self._decoder, self.protocol
        if port is None or decoder is None:
            return
        try:
            data = os.read(port.fileno(), 4096)
        except BlockingIOError:
            return
        except OSError as error:  # the cable pulled mid-stream (EIO)
            return self._lost(error)
        if not data:  # readable, yet nothing: the device went away
            return self._lost(EOFError("the line hung up"))
        found = decoder.feed(data)
        for measurement in found:
            self.on_measurement(measurement)
            for flag in measurement.flags & p.replies.keys():
                self._write(p.commands[p.replies[flag]])
        if found:
            self._last = time.monotonic()
            self._say("connected")

    def _tick(self) -> None:
        """Silence noticed, the keep-alive said, while the line is open."""
        assert self._loop is not None
        now, p = time.monotonic(), self.protocol
        if now - self._last > self.silent_after:
            self._say("silent", SILENT)
        if p.keep_alive and now >= self._next_keep_alive:
            self._write(p.keep_alive)
            self._next_keep_alive = now + p.keep_alive_every
        if self._port is not None:
            self._timer = self._loop.call_later(TICK_SECONDS, self._tick)

    def _write(self, data: bytes) -> None:
        if self._port is None:
            return
        try:
            self._port.write(data)
        except (serial.SerialException, OSError) as error:
            self._lost(error)

    def _lost(self, error: BaseException) -> None:
        log.info("serial %s: %s", self.path, error)
        self._close()
        self._say("absent", ABSENT)
        if not self._stopped:
            assert self._loop is not None
            self._timer = self._loop.call_later(RETRY_SECONDS, self._open)

    def _close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        port, self._port, self._decoder = self._port, None, None
        if port is not None:
            assert self._loop is not None
            self._loop.remove_reader(port.fileno())
            port.close()
