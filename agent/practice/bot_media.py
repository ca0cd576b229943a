"""What the simulated specialist sends into the call: a drawn portrait that moves (its mouth while
it speaks, a slow breathing otherwise) and a voice, read by espeak-ng when the cart has it.

Cheap on a 2-core cart: 640x360 at 15 frames per second, the frames drawn once at start and
only handed out after; the voice made once per sentence, in a thread."""

from __future__ import annotations

import asyncio
import fractions
import io
import logging
import math
import shutil
import subprocess
import time
from collections import deque

import av
import numpy as np
from aiortc import MediaStreamTrack
from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger("agent.practice")

WIDTH, HEIGHT, FPS = 640, 360, 15
VIDEO_CLOCK = 90_000
RATE, SAMPLES = 48_000, 960  # 20 ms of 48 kHz mono, Opus's frame
CYCLE = 30  # frames in one breath


FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # fonts-dejavu-core, in the image with Chromium


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT, size)
    except OSError:  # Pillow's own font has no accents, but it is always there
        return ImageFont.load_default(size=size)


def _portrait(name: str, mouth_open: float, breath: float, big: ImageFont.FreeTypeFont | ImageFont.ImageFont,
              small: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> np.ndarray:
    """One frame: a doctor in a white coat before a blue wall, their name and the practice badge."""
    img = Image.new("RGB", (WIDTH, HEIGHT), (46, 86, 130))
    draw = ImageDraw.Draw(img)
    cx, rise = 200, int(4 * breath)
    draw.rounded_rectangle((90, 230 - rise, 310, 400), radius=60, fill=(245, 247, 250))  # the coat
    draw.polygon([(175, 232 - rise), (200, 290 - rise), (225, 232 - rise)], fill=(70, 120, 170))  # the shirt
    draw.rectangle((185, 200 - rise, 215, 236 - rise), fill=(232, 190, 160))  # the neck
    draw.ellipse((cx - 58, 92 - rise, cx + 58, 222 - rise), fill=(238, 198, 168))  # the head
    draw.chord((cx - 62, 80 - rise, cx + 62, 180 - rise), 180, 360, fill=(92, 64, 51))  # the hair
    for eye in (cx - 22, cx + 22):
        draw.ellipse((eye - 6, 145 - rise, eye + 6, 157 - rise), fill=(40, 40, 40))
    mouth = 3 + int(14 * mouth_open)
    draw.ellipse((cx - 16, 188 - rise - mouth // 2, cx + 16, 188 - rise + mouth // 2), fill=(150, 60, 60))
    draw.text((350, 120), name, font=big, fill=(255, 255, 255))
    draw.text((350, 162), "Médecin simulé", font=small, fill=(220, 230, 240))
    draw.rounded_rectangle((350, 200, 560, 240), radius=8, fill=(230, 120, 20))
    draw.text((362, 208), "ENTRAÎNEMENT", font=small, fill=(255, 255, 255))
    frame = av.VideoFrame.from_image(img).reformat(format="yuv420p")
    return frame.to_ndarray()


class Voice:
    """What the simulated doctor has left to say, in 20 ms chunks; shared by the tracks of every
    connection it makes (a repaired connection goes on with the sentence)."""

    def __init__(self) -> None:
        self._chunks: deque[bytes] = deque()

    def say(self, pcm: bytes) -> None:
        """48 kHz mono signed 16-bit samples, played after what is already queued."""
        self._chunks.extend(pcm[i:i + SAMPLES * 2].ljust(SAMPLES * 2, b"\0") for i in range(0, len(pcm), SAMPLES * 2))

    @property
    def speaking(self) -> bool:
        return bool(self._chunks)

    def next_chunk(self) -> bytes:
        return self._chunks.popleft() if self._chunks else bytes(SAMPLES * 2)


class Portrait:
    """The frames of the doctor's picture, drawn once (a third of a second of CPU: made in a
    worker thread, never on the event loop that carries the call)."""

    def __init__(self, name: str) -> None:
        big, small = font(30), font(20)
        breaths = [(1 + math.sin(2 * math.pi * i / CYCLE)) / 2 for i in range(CYCLE)]
        self.still = [_portrait(name, 0.0, b, big, small) for b in breaths]
        self.talking = [_portrait(name, abs(math.sin(math.pi * i / 4)), b, big, small) for i, b in enumerate(breaths)]


class _Paced(MediaStreamTrack):
    """A track that hands out its n-th frame at start + n * period, as a camera or a sound card would."""

    def __init__(self, period: float) -> None:
        super().__init__()
        self._period = period
        self._start: float | None = None
        self.count = 0

    async def _next(self) -> None:
        if self._start is None:
            self._start = time.monotonic()
            return
        self.count += 1
        await asyncio.sleep(max(0.0, self._start + self.count * self._period - time.monotonic()))


class PortraitTrack(_Paced):
    """The simulated doctor's camera: the mouth moves while the voice speaks."""

    kind = "video"

    def __init__(self, portrait: Portrait, voice: Voice) -> None:
        super().__init__(1 / FPS)
        self._portrait, self._voice = portrait, voice

    async def recv(self) -> av.VideoFrame:
        await self._next()
        frames = self._portrait.talking if self._voice.speaking else self._portrait.still
        frame = av.VideoFrame.from_ndarray(frames[self.count % CYCLE], format="yuv420p")
        frame.pts, frame.time_base = self.count * VIDEO_CLOCK // FPS, fractions.Fraction(1, VIDEO_CLOCK)
        return frame


class VoiceTrack(_Paced):
    """The simulated doctor's microphone: silence, or what the voice has to say."""

    kind = "audio"

    def __init__(self, voice: Voice) -> None:
        super().__init__(SAMPLES / RATE)
        self._voice = voice

    async def recv(self) -> av.AudioFrame:
        await self._next()
        frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES)
        frame.planes[0].update(self._voice.next_chunk())
        frame.pts, frame.sample_rate, frame.time_base = self.count * SAMPLES, RATE, fractions.Fraction(1, RATE)
        return frame


def speech(text: str) -> bytes | None:
    """`text` read aloud in French by espeak-ng, as 48 kHz mono samples; None when the cart has no
    espeak-ng (the chat still says it)."""
    program = shutil.which("espeak-ng")
    if program is None:
        return None
    try:
        wav = subprocess.run([program, "-v", "fr", "-s", "150", "--stdout", text], capture_output=True, check=True, timeout=20).stdout
    except (subprocess.SubprocessError, OSError) as error:
        log.warning("espeak-ng could not read a sentence: %s", error)
        return None
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    out = bytearray()
    with av.open(io.BytesIO(wav), format="wav") as container:
        for frame in container.decode(audio=0):
            for resampled in resampler.resample(frame):
                out += bytes(resampled.planes[0])[: resampled.samples * 2]
    for resampled in resampler.resample(None):
        out += bytes(resampled.planes[0])[: resampled.samples * 2]
    return bytes(out)
