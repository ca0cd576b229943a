"""Cameras: the room camera and the USB exam camera (dermatoscope, otoscope).

`v4l2` finds real cameras by their stable /dev/v4l/by-id names and opens them with PyAV;
`simulator` draws frames (a clock, a frame counter and a machine-readable time stamp) for carts
without a camera and for the tests. Both are `FrameSource`s: a blocking `read()` that a capture
thread calls (agent/devices/cameras.py), never the event loop.

PyAV, numpy and Pillow are imported by the sources themselves, when a camera is first opened: the
agent starts and idles without them (docs/architecture.md, "What loads when").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import av


class CameraLost(Exception):
    """The camera stopped giving frames: unplugged, or its device went away."""


class FrameSource(Protocol):
    width: int
    height: int

    def read(self) -> av.VideoFrame:
        """The next frame, blocking until it is captured; CameraLost when the camera is gone."""
        ...

    def close(self) -> None: ...
