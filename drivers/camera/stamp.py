"""The capture time drawn into each simulated frame as a row of black and white blocks, so that
a viewer (the benchmark's browser) can read back when the frame left the camera's "glass".

The row sits at the top left: a white start block, then 42 bits of milliseconds since the epoch
(modulo 2**42: about 139 years), most significant first. Blocks are 16 pixels square: big enough
to survive a VP8 or H.264 encoder at a low bitrate, read at the block centre with a mid-grey
threshold.
"""

from __future__ import annotations

import numpy as np

BLOCK = 16
BITS = 42
WHITE, BLACK = 235, 16  # video-range luma


def draw(luma: np.ndarray, millis: int) -> None:
    """Writes the stamp into a Y plane (height x width uint8), in place."""
    value = millis % (1 << BITS)
    blocks = [1] + [(value >> (BITS - 1 - i)) & 1 for i in range(BITS)]
    row = np.repeat(np.array([WHITE if b else BLACK for b in blocks], dtype=np.uint8), BLOCK)
    luma[:BLOCK, : row.size] = row


def read(luma: np.ndarray) -> int | None:
    """The stamp of a Y plane at the size it was drawn, or None when the start block is missing."""
    centres = luma[BLOCK // 2, BLOCK // 2 :: BLOCK][: BITS + 1]
    if centres.size < BITS + 1 or centres[0] < 128:
        return None
    value = 0
    for level in centres[1:]:
        value = (value << 1) | int(level >= 128)
    return value


WIDTH = BLOCK * (BITS + 1)
