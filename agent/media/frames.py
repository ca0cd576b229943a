"""The newest frame of the active camera, and nothing older.

A viewer (an encoder, the preview) asks for the next frame after the one it last took. When it is
slower than the camera it simply gets the newest one on its next turn: frames it had no time for
are dropped, never queued, so a slow encoder lowers the frame rate instead of growing a delay.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from dataclasses import dataclass

import av

CLOCK_RATE = 90_000
TIME_BASE = fractions.Fraction(1, CLOCK_RATE)


@dataclass(frozen=True)
class Captured:
    seq: int
    frame: av.VideoFrame  # shared by every viewer: read-only once published
    wall_time: float  # time.time() at capture, for the statistics and the preview's age
    camera: str | None = None  # which camera gave it (None: a still made by the hub)


class FrameSlot:
    """Lives on the event loop; capture threads publish through `publish_threadsafe`."""

    def __init__(self) -> None:
        self._latest: Captured | None = None
        self._changed: asyncio.Future[None] | None = None
        self._epoch = time.monotonic()
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    @property
    def latest(self) -> Captured | None:
        return self._latest

    def now_pts(self) -> int:
        return int((time.monotonic() - self._epoch) * CLOCK_RATE)

    def publish(self, frame: av.VideoFrame, camera: str | None = None) -> None:
        """On the loop. Stamps the frame once with a presentation time on one clock for all cameras,
        so a camera switch does not make time go backwards for the encoders."""
        frame.pts = self.now_pts()
        frame.time_base = TIME_BASE
        seq = self._latest.seq + 1 if self._latest else 1
        self._latest = Captured(seq, frame, time.time(), camera)
        changed, self._changed = self._changed, None
        if changed is not None and not changed.done():
            changed.set_result(None)

    def publish_threadsafe(self, frame: av.VideoFrame, camera: str | None = None) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self.publish, frame, camera)
        except RuntimeError:  # the loop closed between the check and the call (shutdown)
            pass

    async def next_after(self, seq: int, timeout: float | None = None) -> Captured | None:
        """The newest frame newer than `seq`; None when none came within `timeout` seconds."""
        while self._latest is None or self._latest.seq <= seq:
            if self._changed is None:
                self._changed = asyncio.get_running_loop().create_future()
            try:
                # shield: one viewer giving up (cancelled, timed out) must not wake the others. Not
                # wait_for: in 3.11 it returns the frame instead of a cancellation that comes with it.
                async with asyncio.timeout(timeout):
                    await asyncio.shield(self._changed)
            except TimeoutError:
                return None
        return self._latest
