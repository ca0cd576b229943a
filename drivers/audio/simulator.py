"""A simulated microphone for carts without one and for the tests."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import numpy as np

from drivers.audio import RATE, SAMPLES


def beep_frames() -> Iterator[np.ndarray]:
    """The simulated microphone: a short soft 440 Hz beep each second, silence between, paced in
    real time (so listeners can hear the cart and tests can measure its sound)."""
    t = np.arange(SAMPLES) / RATE
    index = 0
    started = time.monotonic()
    while True:
        in_second = (index * SAMPLES) % RATE
        if in_second < RATE * 0.15:
            phase = 2 * math.pi * 440 * (index * SAMPLES / RATE)
            samples = (3000 * np.sin(2 * math.pi * 440 * t + phase)).astype(np.int16)
        else:
            samples = np.zeros(SAMPLES, dtype=np.int16)
        index += 1
        delay = started + index * SAMPLES / RATE - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield samples
