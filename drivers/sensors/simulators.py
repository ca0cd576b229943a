"""Simulated serial vital-sign devices: each writes its device's exact bytes, at its own rate, with
values that move like a resident's, hears what the host writes as the real one would, and has the
faults a nurse meets (finger out, a dropout, noise on the line, the cable pulled, a loose cuff, a
resident who moves). They feed the tests through pseudo-terminals and the cart's `--simulate`.

`Simulator(name)` plays the device of any protocol of drivers/sensors/protocols.py:
- contec-cms50d: the older CMS50D+, 5-byte packets at 60 a second, from power-on;
- contec-cms50d-v7: the newer one, 9-byte packets at 60 a second, only once it heard "start live
  data", until `keep_alive_timeout` seconds (30 on the device) pass without a keep-alive or a
  second start, or it hears "stop";
- nonin-oem3: format #2 frames at 75 a second, from power-on;
- suntech-nibp: the blood-pressure module, silent until asked; "measure" inflates then deflates
  the cuff over `inflation_seconds`, then says K; the host asks the result. `vitals.cuff_loose`
  (the cuff never holds pressure: error 87) and `vitals.moving` (error 2) make it fail.

`PtyPort` is the cable: a pseudo-terminal whose slave end is reached through a stable link (like
/dev/serial/by-id on the cart), pulled out (the link gone, the terminal closed) and plugged back in
(a new terminal behind the same link, the device powered up afresh). It writes what its simulator
says and hands it what the host wrote (`heard`); `paused` is a frozen device, deaf and mute.
"""

from __future__ import annotations

import math
import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drivers.sensors import contec, suntech


@dataclass
class Vitals:
    spo2: int = 97
    pulse: int = 72
    finger_in: bool = True
    systolic: int = 128
    diastolic: int = 78
    cuff_loose: bool = False  # the cuff not wrapped around the arm: it never holds pressure
    moving: bool = False  # the resident moves while the cuff deflates: the oscillations are artifacts

    def pleth(self, t: float) -> int:
        """A pulse wave 0-127 at the pulse rate."""
        phase = (t * self.pulse / 60.0) % 1.0
        return int(64 + 50 * math.sin(2 * math.pi * phase) * math.exp(-2 * phase))

    @property
    def mean_pressure(self) -> int:
        return round(self.diastolic + (self.systolic - self.diastolic) / 3)


def contec_old_packet(v: Vitals, t: float, beat: bool) -> bytes:
    """One 5-byte packet of the older CMS50D+ firmware (drivers/sensors/contec.py)."""
    if not v.finger_in:
        return bytes([0x80, 0x00, 0x30, 0x7F, 0x7F])  # probe error, searching, no values
    b0 = 0x80 | 0x06 | (0x40 if beat else 0)
    b2 = 0x04 | (0x40 if v.pulse & 0x80 else 0)
    return bytes([b0, v.pleth(t) & 0x7F, b2, v.pulse & 0x7F, v.spo2])


def contec_v7_packet(v: Vitals, t: float, beat: bool) -> bytes:
    """One 9-byte live-data packet of firmware 4.6+ (drivers/sensors/contec.py): bit 7 of each payload
    byte moved into the second byte."""
    if v.finger_in:
        pi = 412  # 4.12 %
        payload = [0x06 | (0x40 if beat else 0), v.pleth(t) & 0x7F, 0x05, v.pulse, v.spo2, pi & 0xFF, pi >> 8]
    else:  # probe error: pleth 0x40, no values, PI not valid
        payload = [0x80, 0x40, 0x10, 0xFF, 0x7F, 0xFF, 0xFF]
    high = 0x80 | sum(1 << i for i, b in enumerate(payload) if b & 0x80)
    return bytes([0x01, high, *(b | 0x80 for b in payload)])


def nonin_frame(v: Vitals, index: int, t: float) -> bytes:
    """Frame `index` (1-25) of a Nonin OEM III format #2 packet (drivers/sensors/nonin.py)."""
    status = 0x80 | (0x01 if index == 1 else 0) | (0x02 if v.finger_in else 0x40)
    rate = v.pulse if v.finger_in else 511
    value = {1: (rate >> 7) & 0x03, 2: rate & 0x7F, 3: v.spo2 if v.finger_in else 127, 4: 0x30}.get(index, 0)
    frame = bytes([0x01, status, v.pleth(t) if v.finger_in else 0, value])
    return frame + bytes([sum(frame) & 0xFF])


class _Device:
    """One device's behaviour: `chunk(t)` what it writes at time t (s since power-on), `heard(data)`
    what the host wrote, `power_on()` back to how it starts."""

    rate = 60.0  # how many times a second the device writes (or, for one that only answers, looks for a command)

    def __init__(self, vitals: Vitals) -> None:
        self.vitals = vitals
        self.power_on()

    def power_on(self) -> None:
        self._n = 0
        self._inbox = bytearray()

    def heard(self, data: bytes) -> None:
        self._inbox += data

    def chunk(self, t: float) -> bytes:
        self._n += 1
        return self._write(t)

    def _write(self, t: float) -> bytes:
        raise NotImplementedError

    def _beat(self) -> bool:
        return self._n % max(1, int(60 * self.rate / max(1, self.vitals.pulse))) == 0


class ContecOld(_Device):
    def _write(self, t: float) -> bytes:
        self._inbox.clear()  # it hears nothing while streaming live
        return contec_old_packet(self.vitals, t, self._beat())


class ContecV7(_Device):
    def __init__(self, vitals: Vitals, keep_alive_timeout: float) -> None:
        self.keep_alive_timeout = keep_alive_timeout
        super().__init__(vitals)

    def power_on(self) -> None:
        super().power_on()
        self._live_until: float | None = None  # not streaming until asked

    def _write(self, t: float) -> bytes:
        while (start := self._inbox.find(b"\x7d\x81")) >= 0 and len(self._inbox) >= start + 9:
            op = self._inbox[start + 2]
            del self._inbox[:start + 9]
            if op == contec.START_LIVE[2] or (op == contec.KEEP_ALIVE[2] and self._live_until is not None):
                self._live_until = t + self.keep_alive_timeout
            elif op == contec.STOP_LIVE[2]:
                self._live_until = None
        if self._live_until is None or t > self._live_until:
            self._live_until = None
            return b""
        return contec_v7_packet(self.vitals, t, self._beat())


class NoninOem3(_Device):
    rate = 75.0

    def _write(self, t: float) -> bytes:
        self._inbox.clear()
        return nonin_frame(self.vitals, (self._n - 1) % 25 + 1, t)


class SunTechNibp(_Device):
    rate = 50.0  # it answers within 20 ms

    def __init__(self, vitals: Vitals, inflation_seconds: float) -> None:
        self.inflation_seconds = inflation_seconds
        super().__init__(vitals)

    def power_on(self) -> None:
        super().power_on()
        self._started: float | None = None  # when the running measurement began
        self._result = self._result_packet(0, 0, 0, 0, error=0)  # before any measurement: all zero

    @staticmethod
    def _result_packet(systolic: int, diastolic: int, mean: int, rate: int, error: int, beats: int = 0) -> bytes:
        return suntech.reply(systolic & 0xFF, systolic >> 8, diastolic & 0xFF, diastolic >> 8, beats, 0, *[0] * 8,
                             rate, 0, mean & 0xFF, mean >> 8, error, 0, 0)

    def cuff_pressure(self, t: float) -> int:
        """Up to 30 mmHg above the systolic in the first third, then down in 5 mmHg steps."""
        if self._started is None:
            return 0
        if self.vitals.cuff_loose:
            return 2  # the pump runs, the cuff holds nothing
        phase = (t - self._started) / self.inflation_seconds
        top = self.vitals.systolic + 30
        if phase < 1 / 3:
            return int(top * phase * 3)
        return max(0, int(top * (1 - phase) * 1.5) // 5 * 5)

    def _write(self, t: float) -> bytes:
        out = bytearray()
        while self._inbox:
            if self._inbox[0] != suntech.HOST_START:
                del self._inbox[0]
                continue
            size = 5 if len(self._inbox) > 1 and self._inbox[1] == 0x79 else 3
            if len(self._inbox) < size:
                break
            packet = bytes(self._inbox[:size])
            if sum(packet) & 0xFF:
                del self._inbox[0]
                continue
            del self._inbox[:size]
            out += self._answer(packet, t)
        if self._started is not None and t - self._started >= self.inflation_seconds:
            v = self.vitals
            error = 87 if v.cuff_loose else 2 if v.moving else 0
            if error:
                self._result = self._result_packet(0, 0, 0, 0, error)
            else:
                self._result = self._result_packet(v.systolic, v.diastolic, v.mean_pressure, v.pulse, 0,
                                                   beats=int(v.pulse * self.inflation_seconds / 60))
            self._started = None
            out += suntech.reply(ord("K"))
        return bytes(out)

    def _answer(self, packet: bytes, t: float) -> bytes:
        if packet == suntech.START_ADULT:
            if self._started is not None:
                return suntech.reply(ord("B"))
            self._started = t
            return suntech.reply(ord("O"))
        if packet == suntech.ABORT:
            if self._started is None:
                return suntech.reply(ord("A"))
            self._started = None
            self._result = self._result_packet(0, 0, 0, 0, error=86)
            return suntech.reply(ord("A")) + suntech.reply(ord("K"))
        if packet == suntech.GET_CUFF_PRESSURE:
            pressure = self.cuff_pressure(t)
            return suntech.reply(pressure & 0xFF, (pressure >> 8) & 0xFF)
        if packet == suntech.GET_RESULT:
            return self._result
        return b""  # a command this simulator does not play


class Simulator:
    """Bytes of one device as time goes: `chunk(t)` is what it writes at time t, `heard(data)` what
    the host wrote to it; `rate` how many times a second `chunk` is called."""

    def __init__(self, protocol: str, vitals: Vitals | None = None, *, keep_alive_timeout: float = 30.0,
                 inflation_seconds: float = 25.0) -> None:
        self.protocol = protocol
        self.vitals = vitals or Vitals()
        makers: dict[str, Callable[[], _Device]] = {
            "contec-cms50d": lambda: ContecOld(self.vitals),
            "contec-cms50d-v7": lambda: ContecV7(self.vitals, keep_alive_timeout),
            "nonin-oem3": lambda: NoninOem3(self.vitals),
            "suntech-nibp": lambda: SunTechNibp(self.vitals, inflation_seconds),
        }
        if protocol not in makers:
            raise ValueError(f"no simulator for protocol {protocol!r}; known: {', '.join(sorted(makers))}")
        self.device = makers[protocol]()

    @property
    def rate(self) -> float:
        return self.device.rate

    def chunk(self, t: float) -> bytes:
        return self.device.chunk(t)

    def heard(self, data: bytes) -> None:
        self.device.heard(data)

    def power_on(self) -> None:
        self.device.power_on()


class PtyPort:
    """A device on a cable: writes its simulator's bytes to a pseudo-terminal behind `link`, and
    hands the simulator what the host writes."""

    def __init__(self, link: Path, simulator: Simulator) -> None:
        self.link, self.simulator = link, simulator
        self.paused = False  # the device frozen (a battery flat, a crash): it neither talks nor listens
        self.noise: Callable[[], bytes] | None = None  # bytes slipped in between packets
        self._master: int | None = None
        self._slave: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def plug(self) -> PtyPort:
        self._master, self._slave = os.openpty()
        self.link.unlink(missing_ok=True)
        self.link.symlink_to(os.ttyname(self._slave))
        self.simulator.power_on()  # powered by its cable: plugged back, it starts afresh
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(self._master,), daemon=True, name="pty-device")
        self._thread.start()
        return self

    def pull(self) -> None:
        """The cable out: the link gone, the terminal closed under the reader's feet."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        self.link.unlink(missing_ok=True)
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None

    def _run(self, master: int) -> None:
        started = time.monotonic()
        period = 1.0 / self.simulator.rate
        next_at = started
        while not self._stop.is_set():
            next_at += period
            try:
                while (wait := next_at - time.monotonic()) > 0 and select.select([master], [], [], wait)[0]:
                    heard = os.read(master, 1024)  # what the host wrote, as it comes
                    if not self.paused:
                        self.simulator.heard(heard)
                if self.paused:
                    continue
                data = self.simulator.chunk(time.monotonic() - started)
                if data and self.noise is not None:
                    data = self.noise() + data
                if data:
                    os.write(master, data)
            except OSError:
                return
