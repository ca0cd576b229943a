"""A camera without hardware: frames drawn at the camera's own pace, with what a person checking a
call wants to see (which camera, a running clock, a frame counter) and what a machine wants to
read (the capture time as blocks, see `stamp`).

Frames are drawn straight into YUV 4:2:0 planes, the encoder's own format, so the simulator costs
a copy and a few small text draws per frame, not a colour conversion.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from drivers.camera import stamp


@dataclass(frozen=True)
class Scene:
    """What a simulated camera films: a label and a colour scheme that tell the cameras apart."""

    label: str
    luma: tuple[int, int]  # top and bottom of a vertical gradient
    chroma: tuple[int, int]  # U, V of the background
    disc: tuple[int, int, int] | None = None  # Y, U, V of a disc in the middle (the exam camera's skin)


ROOM = Scene("Caméra de la salle (simulée)", (70, 130), (140, 118))
EXAM = Scene("Caméra d'examen (simulée)", (20, 28), (128, 128), disc=(165, 108, 162))

_font_cache: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Bitstream Vera, shipped inside reportlab (a dependency already): Pillow's own default font
    has no accented letters, and "Caméra" must read right."""
    if size not in _font_cache:
        import reportlab

        vera = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"
        _font_cache[size] = ImageFont.truetype(str(vera), size) if vera.is_file() else ImageFont.load_default(size=size)
    return _font_cache[size]


def _text_luma(text: str, size: int, width: int) -> np.ndarray:
    """White text on black as a luma block `width` wide (cropped to the plane)."""
    font = _font(size)
    image = Image.new("L", (width, int(size * 1.5)), 0)
    ImageDraw.Draw(image).text((size // 2, size // 4), text, fill=255, font=font)
    return np.asarray(image)


def _chroma(planes: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Views of the U and V planes of a packed yuv420p array, each (height/2) x (width/2)."""
    quarter = height // 4
    return (planes[height : height + quarter].reshape(height // 2, width // 2),
            planes[height + quarter :].reshape(height // 2, width // 2))


def _paste_text(planes: np.ndarray, width: int, height: int, text: str, size: int, top: int) -> None:
    """Writes text on a dark band across the Y plane, with neutral chroma under it."""
    block = _text_luma(text, size, width)
    rows = min(block.shape[0], height - top)
    if rows <= 0:
        return
    planes[top : top + rows, :width] = 24 + (block[:rows].astype(np.uint16) * 211 // 255).astype(np.uint8)
    for chroma in _chroma(planes, width, height):
        chroma[top // 2 : (top + rows + 1) // 2] = 128


def background(width: int, height: int, scene: Scene) -> np.ndarray:
    """The scene's still planes, yuv420p packed as PyAV's from_ndarray expects ((h*3/2) x w)."""
    planes = np.empty((height * 3 // 2, width), dtype=np.uint8)
    top, bottom = scene.luma
    planes[:height] = np.linspace(top, bottom, height, dtype=np.float32).astype(np.uint8)[:, None]
    planes[height : height + height // 4] = scene.chroma[0]
    planes[height + height // 4 :] = scene.chroma[1]
    if scene.disc:
        yy, xx = np.ogrid[:height, :width]
        radius = min(width, height) * 0.38
        inside = (yy - height / 2) ** 2 + (xx - width / 2) ** 2 <= radius**2
        planes[:height][inside] = scene.disc[0]
        # a darker spot, as on a dermatoscope image, so the picture is not one flat colour
        spot = (yy - height * 0.45) ** 2 + (xx - width * 0.55) ** 2 <= (radius * 0.18) ** 2
        planes[:height][spot] = scene.disc[0] - 70
        u, v = _chroma(planes, width, height)
        u[inside[::2, ::2]], v[inside[::2, ::2]] = scene.disc[1], scene.disc[2]
    _paste_text(planes, width, height, scene.label, max(20, height // 24), height - height // 10)
    return planes


def still(width: int, height: int, message: str) -> av.VideoFrame:
    """A grey frame carrying a message (camera unplugged, video turned off)."""
    planes = np.empty((height * 3 // 2, width), dtype=np.uint8)
    planes[:height], planes[height:] = 48, 128
    _paste_text(planes, width, height, message, max(20, height // 18), height // 2 - height // 24)
    return av.VideoFrame.from_ndarray(planes, format="yuv420p")


class SimulatedCamera:
    """A FrameSource that paces itself like a camera: a late reader skips frames, never queues them."""

    def __init__(self, scene: Scene, width: int = 1280, height: int = 720, fps: float = 30.0) -> None:
        self.width, self.height, self.fps = width - width % 2, height - height % 2, fps
        self.scene = scene
        self._background = background(self.width, self.height, scene)
        self._planes = np.empty_like(self._background)
        self._period = 1.0 / fps
        self._next = time.monotonic()
        self.count = 0

    def read(self) -> av.VideoFrame:
        now = time.monotonic()
        if now < self._next:
            time.sleep(self._next - now)
            now = self._next
        self._next = max(self._next + self._period, now)  # late: the missed frames are simply not drawn
        self.count += 1
        planes = self._planes
        np.copyto(planes, self._background)
        wall = datetime.now()
        text = f"{wall:%H:%M:%S}.{wall.microsecond // 1000:03d}   image {self.count:06d}"
        _paste_text(planes, self.width, self.height, text, max(18, self.height // 20), stamp.BLOCK * 2)
        stamp.draw(planes[: self.height], time.time_ns() // 1_000_000)
        return av.VideoFrame.from_ndarray(planes, format="yuv420p")

    def close(self) -> None:
        """Nothing to release: no device behind it."""
