"""Real cameras: found by their stable names under /dev/v4l/by-id (a USB camera keeps its name
whichever port it is plugged into, unlike /dev/videoN), opened and decoded with PyAV.

A USB camera exposes two nodes, `...-video-index0` (the picture) and `...-video-index1` (metadata):
only index0 is a camera. MJPEG is asked for first: at 1280x720 and 30 fps, raw YUYV does not fit
in USB 2.0 bandwidth, and decoding MJPEG costs less than the encoder does anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from drivers.camera import CameraLost

if TYPE_CHECKING:
    import av

BY_ID = Path("/dev/v4l/by-id")
_NAME = re.compile(r"^(?:usb|pci|platform)-(?P<model>.+?)(?:_(?P<serial>[0-9A-Za-z]{4,}))?-video-index0$")


@dataclass(frozen=True)
class CameraDevice:
    id: str  # the by-id name, what the configuration names
    path: str
    label: str  # "HD USB Camera", for the kiosk's camera button


def label_of(by_id_name: str) -> str:
    match = _NAME.match(by_id_name)
    model = match.group("model") if match else by_id_name
    return model.replace("_", " ").strip()


def enumerate_cameras(directory: Path = BY_ID) -> list[CameraDevice]:
    """The cameras plugged in now, in name order (stable across reboots)."""
    try:
        names = sorted(p.name for p in directory.iterdir() if p.name.endswith("-video-index0"))
    except OSError:  # no /dev/v4l at all: no camera was ever plugged in
        return []
    return [CameraDevice(name, str(directory / name), label_of(name)) for name in names]


def resolve(name: str, directory: Path = BY_ID) -> str:
    """A configured camera: a by-id name, or any path PyAV can open (a device, a test stream)."""
    return name if "/" in name else str(directory / name)


class V4l2Camera:
    """A FrameSource over PyAV. `input_format` "" lets the device choose (raw YUYV usually). A path
    outside /dev (a pipe carrying an MJPEG stream, as a camera bridge or a test gives) is opened as
    a plain stream whose format FFmpeg recognises."""

    def __init__(self, path: str, width: int, height: int, fps: float, input_format: str = "mjpeg") -> None:
        import av  # here, not at the top: listing the cameras must not load PyAV
        from av.video.reformatter import VideoReformatter

        container_format: str | None = "v4l2"
        options = {"video_size": f"{width}x{height}", "framerate": f"{fps:g}"}
        if input_format:
            options["input_format"] = input_format
        if not path.startswith("/dev/"):
            # A pipe has no duration to analyse: FFmpeg would wait 5 s probing it before the first frame.
            container_format, options = None, {"probesize": "65536", "analyzeduration": "200000", "fflags": "nobuffer"}
        try:
            self._container = av.open(path, format=container_format, options=options, timeout=5.0)
        except (av.error.FFmpegError, OSError) as exc:
            raise CameraLost(f"{path}: {exc}") from exc
        self._frames = self._container.decode(video=0)
        self._reformatter = VideoReformatter()  # this reader's own: its swscale context is never shared
        stream = self._container.streams.video[0]
        self.width, self.height = stream.codec_context.width or width, stream.codec_context.height or height

    def read(self) -> av.VideoFrame:
        import av

        try:
            frame = next(self._frames)
        except (StopIteration, av.error.FFmpegError, OSError) as exc:
            raise CameraLost(str(exc) or "end of stream") from exc
        self.width, self.height = frame.width, frame.height
        # The encoders' format, converted once here, in the capture thread: otherwise each
        # participant's encoder converts the same published frame in its own thread through the
        # converter PyAV caches on the frame, which is not safe to share (MJPEG decodes to yuvj422p).
        return frame if frame.format.name == "yuv420p" else self._reformatter.reformat(frame, format="yuv420p")

    def close(self) -> None:
        import av

        try:
            self._container.close()
        except (av.error.FFmpegError, OSError):
            pass
