"""The cart's cameras as one switchable source.

Only the active camera is open: two cameras streaming at once would share one USB bus and cost
twice the decoding for a picture nobody sees. A capture thread reads the camera and publishes
into the FrameSlot; viewers (call encoders, the kiosk preview) hold the hub open while they
watch, and the camera closes a little after the last one leaves.

A camera that stops giving frames (unplugged) is marked missing: the hub falls back to another
camera, or to a still frame that says so, and tries the missing one again every few seconds, so
plugging it back is enough.

Nothing here loads PyAV, numpy or Pillow until a viewer comes: the FrameSlot is made by the first
`acquire` (`watching` imports it in a worker thread first), a camera's driver is imported by the
thread that opens it, and listing the cameras (the kiosk, the technician's page) reads /dev/v4l
only.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agent import first_use
from agent.config import MediaConfig
from drivers.camera import CameraLost, FrameSource, v4l2

if TYPE_CHECKING:
    from agent.media.frames import Captured, FrameSlot

log = logging.getLogger("agent.media")

RETRY_SECONDS = 3.0
CLOSE_AFTER_SECONDS = 5.0
LABELS = {"room": "Caméra de la salle", "exam": "Caméra d'examen"}


@dataclass
class Camera:
    id: str  # "room" | "exam"
    label: str
    opener: Callable[[], FrameSource] = field(repr=False)
    simulated: bool = False
    available: bool = True


def cameras_from_config(config: MediaConfig, simulate: bool) -> list[Camera]:
    """The configured cameras, then: simulated ones with --simulate, else the detected ones; a
    simulated room camera when none is found, so the call still shows something that says why.
    A camera named in the configuration wins over --simulate (a bench with one real camera)."""
    w, h, fps = config.camera_width, config.camera_height, config.camera_fps
    simulated = {"room": lambda: _simulated("ROOM", w, h, fps),
                 "exam": lambda: _simulated("EXAM", h * 4 // 3, h, fps)}
    found = [] if simulate else [device.id for device in v4l2.enumerate_cameras()]
    names = {"room": config.room_camera or (found[0] if found else ""),
             "exam": config.exam_camera or (found[1] if len(found) > 1 else "")}
    cameras = []
    for camera_id, name in names.items():
        if name:
            path = v4l2.resolve(name)
            cameras.append(Camera(camera_id, LABELS[camera_id],
                                  lambda path=path: v4l2.V4l2Camera(path, w, h, fps, config.camera_format)))
        elif simulate:
            cameras.append(Camera(camera_id, LABELS[camera_id], simulated[camera_id], simulated=True))
    if not any(c.id == "room" for c in cameras):
        log.warning("no camera found: the call shows a simulated picture")
        cameras.insert(0, Camera("room", "Aucune caméra détectée", simulated["room"], simulated=True))
    return cameras


def _simulated(scene: str, width: int, height: int, fps: float) -> FrameSource:
    """A simulated camera, opened by the capture thread: its drawing (numpy, Pillow, PyAV) is
    imported then, not when the agent starts."""
    from drivers.camera import simulator

    return simulator.SimulatedCamera(getattr(simulator, scene), width, height, fps)


class _Capture(threading.Thread):
    """Reads one camera until told to stop or until the camera is lost."""

    def __init__(self, camera: Camera, slot: FrameSlot, lost: Callable[[str, str], None]) -> None:
        super().__init__(name=f"camera-{camera.id}", daemon=True)
        self.camera, self._slot, self._lost = camera, slot, lost
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        try:
            source = self.camera.opener()
        except CameraLost as exc:
            self._lost(self.camera.id, str(exc))
            return
        try:
            while not self._stop.is_set():
                frame = source.read()
                if not self._stop.is_set():
                    self._slot.publish_threadsafe(frame, self.camera.id)
        except CameraLost as exc:
            if not self._stop.is_set():
                self._lost(self.camera.id, str(exc))
        finally:
            source.close()


@dataclass(frozen=True)
class Snapshot:
    jpeg: bytes
    width: int
    height: int
    camera_label: str


class CameraHub:
    def __init__(self, cameras: list[Camera], *, width: int = 1280, height: int = 720) -> None:
        assert cameras, "at least the simulated room camera"
        self.cameras = {camera.id: camera for camera in cameras}
        self.active_id = cameras[0].id
        self._slot: FrameSlot | None = None
        self.notice: str | None = None  # what the nurse and the specialist should know (a camera lost)
        self.video_off = False
        self._size = (width, height)
        self._capture: _Capture | None = None
        self._viewers = 0
        self._closing: asyncio.TimerHandle | None = None
        self._retrying: dict[str, asyncio.Task[None]] = {}
        self._listeners: list[Callable[[], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def slot(self) -> FrameSlot:
        """Where the capture thread publishes, made when first needed (a viewer, a still): frames
        are PyAV's, loaded only then."""
        if self._slot is None:
            from agent.media.frames import FrameSlot

            self._slot = FrameSlot()
        return self._slot

    # --- who is watching ----------------------------------------------------------------------

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Called (on the loop) when the active camera, a camera's presence or the notice changes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def acquire(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.slot.bind(self._loop)
        self._viewers += 1
        if self._closing is not None:
            self._closing.cancel()
            self._closing = None
        if self._capture is None:
            self._start(self.active_id)

    def release(self) -> None:
        self._viewers = max(0, self._viewers - 1)
        if self._viewers == 0 and self._loop is not None and self._closing is None:
            self._closing = self._loop.call_later(CLOSE_AFTER_SECONDS, self._close_if_unwatched)

    @contextlib.asynccontextmanager
    async def watching(self):  # noqa: ANN201
        if self._slot is None:  # the first viewer: PyAV loads in a worker thread, the loop goes on serving
            await first_use.load("agent.media.frames")
        self.acquire()
        try:
            yield self
        finally:
            self.release()

    def _close_if_unwatched(self) -> None:
        self._closing = None
        if self._viewers == 0:
            self._stop_capture()

    # --- capture ------------------------------------------------------------------------------

    def _start(self, camera_id: str) -> None:
        self._stop_capture()
        camera = self.cameras[camera_id]
        self._capture = _Capture(camera, self.slot, self._lost_threadsafe)
        self._capture.start()

    def _stop_capture(self) -> None:
        if self._capture is not None:
            self._capture.stop()  # the thread ends after its current read; nobody waits for it
            self._capture = None

    def _lost_threadsafe(self, camera_id: str, reason: str) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._lost, camera_id, reason)

    def _lost(self, camera_id: str, reason: str) -> None:
        camera = self.cameras[camera_id]
        log.warning("camera lost: %s (%s)", camera.label, reason)
        camera.available = False
        if camera_id == self.active_id:
            self._capture = None
            fallback = next((c for c in self.cameras.values() if c.available), None)
            if fallback is not None:
                self.notice = f"{camera.label} débranchée : {fallback.label.lower()} à la place."
                self.active_id = fallback.id
                if self._viewers:
                    self._start(fallback.id)
            else:
                self.notice = f"{camera.label} débranchée : rebranchez-la, l'image reviendra seule."
                from drivers.camera import simulator

                self.slot.publish(simulator.still(*self._size, self.notice))
        if camera_id not in self._retrying:
            self._retrying[camera_id] = asyncio.get_running_loop().create_task(self._retry(camera_id))
        self._changed()

    async def _retry(self, camera_id: str) -> None:
        camera = self.cameras[camera_id]
        loop = asyncio.get_running_loop()
        try:
            while True:
                await asyncio.sleep(RETRY_SECONDS)
                try:
                    source = await loop.run_in_executor(None, camera.opener)
                except CameraLost:
                    continue
                await loop.run_in_executor(None, source.close)
                break
        finally:
            self._retrying.pop(camera_id, None)
        camera.available = True
        log.info("camera back: %s", camera.label)
        if not any(c.available for c in self.cameras.values() if c.id != camera_id) or self._capture is None:
            self.active_id = camera_id  # it was the only picture: take it back at once
            if self._viewers:
                self._start(camera_id)
        self.notice = f"{camera.label} rebranchée."
        self._changed()

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    # --- what the kiosk and the specialist do -------------------------------------------------

    def state(self) -> dict:
        return {
            "active": self.active_id,
            "cameras": [{"id": c.id, "label": c.label, "available": c.available, "simulated": c.simulated}
                        for c in self.cameras.values()],
            "notice": self.notice,
            "video_off": self.video_off,
        }

    def switch(self, camera_id: str) -> None:
        camera = self.cameras.get(camera_id)
        if camera is None or not camera.available:
            raise KeyError(camera_id)
        if camera_id != self.active_id:
            self.active_id = camera_id
            self.notice = None
            if self._viewers:
                self._start(camera_id)
            self._changed()

    def set_video_off(self, off: bool) -> None:
        self.video_off = off
        self._changed()

    @property
    def active_label(self) -> str:
        return self.cameras[self.active_id].label

    async def snapshot(self, timeout: float = 3.0) -> Snapshot | None:
        """The newest frame of the active camera at its full resolution, as a JPEG: the one just
        shown if it is fresh, else the next one (after a switch, the other camera's last frame
        does not count)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self.watching():
            captured = self.slot.latest
            while captured is None or captured.camera != self.active_id or time.time() - captured.wall_time > 0.5:
                left = deadline - loop.time()
                if left <= 0:
                    return None
                captured = await self.slot.next_after(captured.seq if captured else 0, left)
                if captured is None:
                    return None
        jpeg = await asyncio.get_running_loop().run_in_executor(None, _jpeg, captured, 92)
        return Snapshot(jpeg, captured.frame.width, captured.frame.height, self.active_label)


_REFORMATTERS = threading.local()


def _jpeg(captured: Captured, quality: int, width: int | None = None) -> bytes:
    """The frame as JPEG, converted by this thread's own reformatter: `frame.reformat()` and
    `to_image()` would use the one PyAV caches on the frame, whose swscale context is not safe to
    share, and the same published frame is converted at once by the preview's and a snapshot's
    executor threads (a segfault in libswscale during a call's photo)."""
    frame = captured.frame
    size = {"width": width, "height": round(frame.height * width / frame.width / 2) * 2} if width and frame.width > width else {}
    reformatter = getattr(_REFORMATTERS, "one", None)
    if reformatter is None:
        from av.video.reformatter import VideoReformatter  # loaded already by the frame's maker

        reformatter = _REFORMATTERS.one = VideoReformatter()
    rgb = reformatter.reformat(frame, format="rgb24", **size)
    out = io.BytesIO()
    rgb.to_image().save(out, format="JPEG", quality=quality)  # already rgb24: to_image converts nothing
    return out.getvalue()


def preview_jpeg(captured: Captured, width: int) -> bytes:
    """A small JPEG of a frame for the kiosk's preview (runs in an executor)."""
    return _jpeg(captured, 70, width)

