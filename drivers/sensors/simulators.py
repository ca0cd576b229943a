"""Simulated serial oximeters: each writes its device's exact bytes, at its own rate, with values
that move like a resident's and the faults a nurse meets (finger out, a dropout, noise on the
line, the cable pulled). They feed the tests through pseudo-terminals and the cart's `--simulate`.

`PtyPort` is the cable: a pseudo-terminal whose slave end is reached through a stable link (like
/dev/serial/by-id on the cart), pulled out (the link gone, the terminal closed) and plugged back in
(a new terminal behind the same link).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Vitals:
    spo2: int = 97
    pulse: int = 72
    finger_in: bool = True

    def pleth(self, t: float) -> int:
        """A pulse wave 0-127 at the pulse rate."""
        phase = (t * self.pulse / 60.0) % 1.0
        return int(64 + 50 * math.sin(2 * math.pi * phase) * math.exp(-2 * phase))


def contec_old_packet(v: Vitals, t: float, beat: bool) -> bytes:
    """One 5-byte packet of the older CMS50D+ firmware (drivers/sensors/contec.py)."""
    if not v.finger_in:
        return bytes([0x80, 0x00, 0x30, 0x7F, 0x7F])  # probe error, searching, no values
    b0 = 0x80 | 0x06 | (0x40 if beat else 0)
    b2 = 0x04 | (0x40 if v.pulse & 0x80 else 0)
    return bytes([b0, v.pleth(t) & 0x7F, b2, v.pulse & 0x7F, v.spo2])


def nonin_frame(v: Vitals, index: int, t: float) -> bytes:
    """Frame `index` (1-25) of a Nonin OEM III format #2 packet (drivers/sensors/nonin.py)."""
    status = 0x80 | (0x01 if index == 1 else 0) | (0x02 if v.finger_in else 0x40)
    rate = v.pulse if v.finger_in else 511
    value = {1: (rate >> 7) & 0x03, 2: rate & 0x7F, 3: v.spo2 if v.finger_in else 127, 4: 0x30}.get(index, 0)
    frame = bytes([0x01, status, v.pleth(t) if v.finger_in else 0, value])
    return frame + bytes([sum(frame) & 0xFF])


@dataclass
class Simulator:
    """Bytes of one device as time goes: `chunk(t)` is what it writes at time t."""

    protocol: str  # contec-cms50d (old format) | nonin-oem3
    vitals: Vitals = field(default_factory=Vitals)
    _n: int = 0

    @property
    def rate(self) -> float:
        return 60.0 if self.protocol == "contec-cms50d" else 75.0

    def chunk(self, t: float) -> bytes:
        self._n += 1
        if self.protocol == "contec-cms50d":
            return contec_old_packet(self.vitals, t, beat=self._n % max(1, int(3600 / self.vitals.pulse)) == 0)
        return nonin_frame(self.vitals, (self._n - 1) % 25 + 1, t)


class PtyPort:
    """A device on a cable: writes its simulator's bytes to a pseudo-terminal behind `link`."""

    def __init__(self, link: Path, simulator: Simulator) -> None:
        self.link, self.simulator = link, simulator
        self.paused = False  # the device stops talking (a battery flat, a freeze)
        self.noise: Callable[[], bytes] | None = None  # bytes slipped in between packets
        self._master: int | None = None
        self._slave: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def plug(self) -> PtyPort:
        self._master, self._slave = os.openpty()
        self.link.unlink(missing_ok=True)
        self.link.symlink_to(os.ttyname(self._slave))
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
            time.sleep(max(0.0, next_at - time.monotonic()))
            if self.paused:
                continue
            data = self.simulator.chunk(time.monotonic() - started)
            if self.noise is not None:
                data = self.noise() + data
            try:
                os.write(master, data)
            except OSError:
                return
