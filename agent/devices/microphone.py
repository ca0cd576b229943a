"""The cart's microphone, or a simulated one (drivers/audio/): 20 ms frames of 48 kHz mono audio
fanned out to every participant's track.

Frames are queued, not dropped like video: a gap in sound is worse than a gap in picture. Each
listener's queue is short (200 ms), so a stalled listener loses its oldest audio instead of
building a delay.

PyAV and numpy are imported by the capture thread when the first listener comes (a call), not
when the agent starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import TYPE_CHECKING

from agent.config import MediaConfig
from drivers.audio import SAMPLES

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("agent.media")

QUEUE_FRAMES = 10


class Microphone:
    """One capture thread, many listeners (one queue each)."""

    def __init__(self, config: MediaConfig, simulate: bool) -> None:
        self._config, self._simulate = config, simulate
        self._queues: set[asyncio.Queue[tuple[np.ndarray, float]]] = set()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.muted = False
        self.failed: str | None = None

    def listen(self) -> asyncio.Queue[tuple[np.ndarray, float]]:
        """A queue of (20 ms of samples, monotonic time they were captured)."""
        self._loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[np.ndarray, float]] = asyncio.Queue(QUEUE_FRAMES)
        self._queues.add(queue)
        if self._thread is None:
            # A new event per thread: a thread still finishing after the last leave() keeps its own
            # (set) event, so it cannot come back to life next to the new one.
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(self._stop,), name="microphone", daemon=True)
            self._thread.start()
        return queue

    def leave(self, queue: asyncio.Queue[tuple[np.ndarray, float]]) -> None:
        self._queues.discard(queue)
        if not self._queues and self._thread is not None:
            self._stop.set()
            self._thread = None

    def _run(self, stop: threading.Event) -> None:
        import av

        from drivers.audio.device import device_frames
        from drivers.audio.simulator import beep_frames

        source = beep_frames() if self._simulate else None
        try:
            if source is None:
                device = self._config.audio_input or ("echo-cancel-source" if self._config.echo_cancel == "pipewire" else "default")
                source = device_frames(device, self._config.audio_backend)
            for samples in source:
                if stop.is_set():
                    break
                loop = self._loop
                if loop is None or loop.is_closed():
                    break
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._deliver, samples, time.monotonic())
        except (av.error.FFmpegError, OSError) as exc:
            # No microphone: the call goes on in silence and the kiosk says why.
            self.failed = str(exc)
            log.warning("microphone unavailable: %s", exc)
            self._silence(stop)

    def _silence(self, stop: threading.Event) -> None:
        import numpy as np

        from drivers.audio.simulator import beep_frames

        silence = np.zeros(SAMPLES, dtype=np.int16)
        for _ in beep_frames():
            if stop.is_set() or self._loop is None or self._loop.is_closed():
                break
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._deliver, silence, time.monotonic())

    def _deliver(self, samples: np.ndarray, captured: float) -> None:
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()  # the oldest 20 ms go, the delay stays short
            queue.put_nowait((samples, captured))
