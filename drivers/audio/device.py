"""The real microphone, through PyAV's capture formats (pulse for PulseAudio/PipeWire, alsa)."""

from __future__ import annotations

from collections.abc import Iterator

import av
import numpy as np

from drivers.audio import RATE, SAMPLES


def device_frames(device: str, backend: str) -> Iterator[np.ndarray]:
    """The real microphone through PyAV (PulseAudio/PipeWire or ALSA), resampled to 48 kHz mono."""
    container = av.open(device, format=backend)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE, frame_size=SAMPLES)
    try:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                yield out.to_ndarray().reshape(-1)
    finally:
        container.close()
