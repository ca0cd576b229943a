"""The camera's frames as the encoders take them (frames.py), and the video track of a codec
encoded per participant (H.264; VP8 and the sound are encoded once for all: shared_video.py,
shared_audio.py)."""

from __future__ import annotations

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from agent.devices.cameras import CameraHub
from agent.media.frames import TIME_BASE
from drivers.camera import simulator

KEEPALIVE_SECONDS = 1.0  # a still picture is sent again this often, so a new viewer sees it
VIDEO_OFF_TEXT = "Vidéo coupée par l'équipe soignante"


def _copy(frame: av.VideoFrame) -> av.VideoFrame:
    """A frame of our own, in the encoders' format (a conversion makes a new frame by itself)."""
    if frame.format.name == "yuv420p":
        return av.VideoFrame.from_ndarray(frame.to_ndarray(), format="yuv420p")
    return frame.reformat(format="yuv420p")


class CameraFrames:
    """What one consumer of the camera sends next: the newest frame after the last it took; the
    last one again after KEEPALIVE_SECONDS without a new one (a still after a camera was lost);
    a notice while the camera starts or the video is off. Borrows the camera while it lives."""

    def __init__(self, hub: CameraHub) -> None:
        self._hub = hub
        self._seq = 0
        self._still_frame: av.VideoFrame | None = None
        self._still_text = ""
        hub.acquire()

    async def next(self) -> av.VideoFrame:
        slot = self._hub.slot
        captured = await slot.next_after(self._seq, KEEPALIVE_SECONDS)
        if captured is not None:
            self._seq = captured.seq
            frame = captured.frame
        elif slot.latest is not None:  # no new frame (a still after a camera was lost): send it again,
            # as a copy: the published frame may be in another participant's encoder right now
            frame = _copy(slot.latest.frame)
            frame.pts, frame.time_base = slot.now_pts(), TIME_BASE
        else:  # the camera has not given its first frame yet
            frame = self._still(self._hub.active_label + " : démarrage…", slot.now_pts())
        if self._hub.video_off:
            frame = self._still(VIDEO_OFF_TEXT, frame.pts)
        return frame

    def _still(self, text: str, pts: int) -> av.VideoFrame:
        if self._still_text != text:
            self._still_frame, self._still_text = simulator.still(640, 360, text), text
        frame = self._still_frame
        frame.pts, frame.time_base = pts, TIME_BASE
        return frame

    def close(self) -> None:
        self._hub.release()


class CartVideoTrack(MediaStreamTrack):
    """The camera as frames, encoded by this participant's own sender (H.264; VP8 goes through
    agent/media/shared_video.py, encoded once for all)."""

    kind = "video"

    def __init__(self, hub: CameraHub) -> None:
        super().__init__()
        self._frames = CameraFrames(hub)
        self.frames_sent = 0
        self.size = (0, 0)

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self._frames.next()
        self.frames_sent += 1
        self.size = (frame.width, frame.height)
        return frame

    def stop(self) -> None:
        if self.readyState == "live":
            self._frames.close()
        super().stop()
