"""The cart's microphone encoded once for every participant (issue 16), as the camera is
(shared_video.py): one Opus encoder, its packets handed to each participant's sender.

Sound is what a poor link must keep: the encoder runs in Opus's voice mode at a modest rate with
in-band forward error correction, each packet carrying a coarse copy of the one before, so that a
lost packet is rebuilt from the next one instead of heard as a gap (aiortc's own Opus encoder has
neither, and runs once per participant at 96 kbit/s stereo).
"""

from __future__ import annotations

import asyncio
import fractions
import statistics
import time
import weakref
from collections import deque

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from agent.devices.microphone import Microphone
from drivers.audio import RATE, SAMPLES

BITRATE = 40_000  # bit/s, mono voice with room for its FEC copy (Opus's own advice: 32-40k for FEC at 16 kHz band)
EXPECTED_LOSS = 10  # percent: how much FEC the encoder spends (libopus adds LBRR only when it expects loss)
QUEUE_PACKETS = 10  # 200 ms: a sender further behind loses its oldest sound, not its timing
SPREAD_PACKETS = 250  # the last 5 s of packets measure how unevenly the sound leaves
TIME_BASE = fractions.Fraction(1, RATE)

_by_microphone: weakref.WeakKeyDictionary[Microphone, SharedAudio] = weakref.WeakKeyDictionary()


def shared_audio(microphone: Microphone) -> SharedAudio:
    """The one encoder of this microphone (made on first use)."""
    if microphone not in _by_microphone:
        _by_microphone[microphone] = SharedAudio(microphone)
    return _by_microphone[microphone]


class SharedAudio:
    """One Opus encoder per microphone, alive while at least one participant listens."""

    def __init__(self, microphone: Microphone) -> None:
        self._microphone = microphone
        self.listeners: set[AudioPacketTrack] = set()
        self._task: asyncio.Task[None] | None = None

    def listener(self) -> AudioPacketTrack:
        track = AudioPacketTrack(self)
        self.listeners.add(track)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return track

    def leave(self, track: AudioPacketTrack) -> None:
        self.listeners.discard(track)
        if not self.listeners and self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        queue = self._microphone.listen()
        encoder = _opus()
        started: float | None = None
        pts = -SAMPLES
        try:
            while True:
                samples, captured = await queue.get()
                if self._microphone.muted:
                    samples = np.zeros(SAMPLES, dtype=np.int16)
                # Time follows the capture clock in whole 20 ms steps: 20 ms dropped on the way (a
                # stalled queue) leave a gap the receiver conceals, instead of sound running late
                # behind the picture.
                if started is None:
                    started = captured
                pts = max(pts + SAMPLES, round((captured - started) * RATE / SAMPLES) * SAMPLES)
                frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = RATE, pts, TIME_BASE
                # ~0.1 ms for 20 ms of mono voice: on the loop, no thread hand-off
                for packet in encoder.encode(frame):
                    # Opus delays its output by a few ms (its look-ahead) and stamps it so; the
                    # capture time of the frame is the one the receiver must play it at.
                    packet.pts, packet.time_base = pts, TIME_BASE
                    due = started + pts / RATE  # when it leaves if nothing on the way waits
                    for listener in list(self.listeners):
                        listener.offer(packet, due)
        finally:
            self._microphone.leave(queue)


def _opus() -> av.AudioCodecContext:
    codec = av.CodecContext.create("libopus", "w")
    codec.bit_rate = BITRATE
    codec.format, codec.layout, codec.sample_rate = "s16", "mono", RATE
    codec.time_base = TIME_BASE
    codec.options = {"application": "voip", "fec": "1", "packet_loss": str(EXPECTED_LOSS)}
    return codec


class AudioPacketTrack(MediaStreamTrack):
    """One participant's share of the microphone's encoder."""

    kind = "audio"

    def __init__(self, source: SharedAudio) -> None:
        super().__init__()
        self._source = source
        self._queue: asyncio.Queue[tuple[av.Packet, float]] = asyncio.Queue(QUEUE_PACKETS)
        self._late: deque[float] = deque(maxlen=SPREAD_PACKETS)

    def offer(self, packet: av.Packet, due: float) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait((packet, due))

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        packet, due = await self._queue.get()
        self._late.append(time.monotonic() - due)
        return packet

    @property
    def spread_ms(self) -> float | None:
        """How unevenly the sound reaches this participant's sender (5th to 95th percentile of its
        lateness behind the microphone's clock, last 5 s): what their jitter buffer must absorb, and
        the picture with it, lip sync holding it behind the sound. A busy cart (its loop, the
        microphone's thread waiting for a core) shows here; a busy receiver does not."""
        if len(self._late) < SPREAD_PACKETS // 5:
            return None
        cuts = statistics.quantiles(self._late, n=20)
        return (cuts[-1] - cuts[0]) * 1000

    def stop(self) -> None:
        if self.readyState == "live":
            self._source.leave(self)
        super().stop()
