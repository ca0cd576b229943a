"""The cart's camera encoded once for every participant (issue 16): one VP8 encoder, its packets
handed to each participant's sender, which packs an av.Packet into RTP without encoding it again
(aiortc's RTCRtpSender). Three viewers cost about one.

What each viewer's sender hears back is routed here: a key frame asked by any of them (PLI, FIR,
or a viewer joining) is made for all, at most once per KEYFRAME_INTERVAL; the bitrate follows the
weakest viewer's estimate (REMB), so nobody is sent more than their link carries. A viewer whose
sender falls behind loses its queue and waits for the next key frame rather than decoding a
broken picture.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import Any

import av
from aiortc.codecs.vpx import DEFAULT_BITRATE, MAX_BITRATE, MIN_BITRATE, number_of_threads
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpsender import RTCRtpSender
from aiortc.rtp import RTCP_PSFB_APP, RTCP_PSFB_FIR, RTCP_PSFB_PLI, RtcpPsfbPacket, unpack_remb_fci

from agent.devices.cameras import CameraHub
from agent.media.frames import TIME_BASE
from agent.media.tracks import CameraFrames

log = logging.getLogger("agent.media")

KEYFRAME_INTERVAL = 0.5  # seconds: a burst of requests (three viewers losing the same packet) makes one key frame
QUEUE_PACKETS = 4  # a sender this far behind is dropped to the next key frame
BITRATE_STEP = 0.1  # a new target within 10 % of the current one does not restart the encoder


class SharedVideo:
    """One encoder per camera hub, alive while at least one viewer watches."""

    def __init__(self, hub: CameraHub) -> None:
        self._hub = hub
        self._viewers: set[PacketTrack] = set()
        self._task: asyncio.Task[None] | None = None
        self._keyframe_wanted = True
        self._last_keyframe = 0.0
        self.bitrate = DEFAULT_BITRATE  # wanted
        self.encoding_bitrate = 0  # what the encoder runs at (after the next frame)
        self.frames_encoded = 0
        self.size = (0, 0)

    # --- viewers --------------------------------------------------------------------------------

    def viewer(self) -> PacketTrack:
        """A track for one participant's sender; it starts at the next key frame."""
        track = PacketTrack(self)
        self._viewers.add(track)
        self.retarget()
        self.request_keyframe()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(CameraFrames(self._hub)))
        return track

    def leave(self, track: PacketTrack) -> None:
        self._viewers.discard(track)
        if self._viewers:
            self.retarget()  # the weakest may have left
        elif self._task is not None:
            self._task.cancel()
            self._task = None

    def request_keyframe(self) -> None:
        self._keyframe_wanted = True

    def retarget(self) -> None:
        """The weakest viewer's estimate, within VP8's range; the encoder restarts only for a real change."""
        # A viewer not heard from yet counts as a new connection does in aiortc: DEFAULT_BITRATE
        # (a path just opened has not shown what it carries).
        estimates = [v.estimate or DEFAULT_BITRATE for v in self._viewers]
        target = max(MIN_BITRATE, min(MAX_BITRATE, min(estimates))) if estimates else self.bitrate
        if abs(target - self.bitrate) / self.bitrate > BITRATE_STEP:
            self.bitrate = target  # libvpx takes a new rate only at its start: the encoder restarts, a key frame for all

    # --- the encoder ----------------------------------------------------------------------------

    async def _run(self, frames: CameraFrames) -> None:
        # An encoder of this run's own: a run cancelled while its thread still encodes (the last
        # viewer left, another came at once) must never share a libvpx context with the next one.
        encoder = _Encoder()
        loop = asyncio.get_running_loop()
        try:
            while True:
                frame = await frames.next()
                keyframe = self._keyframe_wanted and time.monotonic() - self._last_keyframe >= KEYFRAME_INTERVAL
                packets = await loop.run_in_executor(None, encoder.encode, frame, keyframe, self.bitrate)
                self.frames_encoded += 1
                self.size, self.encoding_bitrate = encoder.size, encoder.bitrate
                for packet in packets:
                    if packet.is_keyframe:
                        self._keyframe_wanted, self._last_keyframe = False, time.monotonic()
                    for viewer in list(self._viewers):
                        viewer.offer(packet)
        except asyncio.CancelledError:
            raise
        except Exception:  # an encoder that fails must say so; the viewers' tracks end with it
            log.exception("shared video encoder stopped")
            for viewer in list(self._viewers):
                viewer.stop()
        finally:
            frames.close()


class _Encoder:
    """libvpx, used by one thread at a time (each frame awaited before the next)."""

    def __init__(self) -> None:
        self._codec: av.VideoCodecContext | None = None
        self.size = (0, 0)
        self.bitrate = 0

    def encode(self, frame: av.VideoFrame, keyframe: bool, bitrate: int) -> list[av.Packet]:
        """One frame to VP8 packets, stamped for the senders."""
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        if self._codec is None or self.size != (frame.width, frame.height) or bitrate != self.bitrate:
            self._codec = _vp8(frame.width, frame.height, bitrate)
            self.size, self.bitrate = (frame.width, frame.height), bitrate
            keyframe = True  # a new encoder starts with one anyway; say it to the viewers
        frame.pict_type = av.video.frame.PictureType.I if keyframe else av.video.frame.PictureType.NONE
        packets = self._codec.encode(frame)
        for packet in packets:
            packet.pts, packet.time_base = frame.pts, TIME_BASE
        return packets


def _vp8(width: int, height: int, bitrate: int) -> av.VideoCodecContext:
    """libvpx for a live call: real time, no look-ahead (no added delay), constant bitrate, key
    frames only when a viewer asks (a periodic one would cost every viewer for nobody)."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.bit_rate = bitrate
    codec.time_base = TIME_BASE
    codec.gop_size = 3000
    codec.qmin, codec.qmax = 2, 56
    codec.options = {"deadline": "realtime", "cpu-used": "-6", "lag-in-frames": "0", "bufsize": str(bitrate),
                     "minrate": str(bitrate), "maxrate": str(bitrate), "static-thresh": "1", "noise-sensitivity": "4",
                     "undershoot-pct": "100", "overshoot-pct": "15", "partitions": "0"}
    codec.thread_count = number_of_threads(width * height, os.cpu_count() or 1)
    return codec


class PacketTrack(MediaStreamTrack):
    """One viewer's share of the encoder: the packets since its last key frame, at most
    QUEUE_PACKETS behind; `estimate` is what its receiver last said it can take (REMB)."""

    kind = "video"

    def __init__(self, source: SharedVideo) -> None:
        super().__init__()
        self._source = source
        self._queue: asyncio.Queue[av.Packet] = asyncio.Queue(QUEUE_PACKETS)
        self._waiting_keyframe = True
        self.paused = False  # audio only for this viewer for now: nothing queued, no key frame asked
        self._reading = False  # its sender started (aiortc reads once ICE and DTLS are done)
        self.estimate: int | None = None
        self.frames_sent = 0

    @property
    def size(self) -> tuple[int, int]:
        return self._source.size

    def offer(self, packet: av.Packet) -> None:
        if self.paused or self._waiting_keyframe and not packet.is_keyframe:
            return
        if self._queue.full():  # its sender fell behind (or has not started): a clean restart at the next key frame
            while not self._queue.empty():
                self._queue.get_nowait()
            self._waiting_keyframe = True
            if self._reading:  # a sender not started yet (ICE, DTLS) asks when it starts, not every 4 frames
                self._source.request_keyframe()
            return
        self._waiting_keyframe = False
        self._queue.put_nowait(packet)

    def pause(self) -> None:
        self.paused = True
        while not self._queue.empty():
            self._queue.get_nowait()

    def resume(self) -> None:
        """Sent again after a pause (audio only for a while): from a key frame."""
        self.paused, self._waiting_keyframe = False, True
        self._source.request_keyframe()

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        if not self._reading:  # the transport is up: the picture starts now, at a key frame
            self._reading = True
            if self._queue.empty():
                self._source.request_keyframe()
        packet = await self._queue.get()
        self.frames_sent += 1
        return packet

    def stop(self) -> None:
        if self.readyState == "live":
            self._source.leave(self)
        super().stop()


def listen_to_receiver(sender: RTCRtpSender, track: PacketTrack, source: SharedVideo) -> None:
    """What this viewer's receiver reports about the picture reaches the shared encoder: aiortc's
    sender would act on it for an encoder of its own, which a packet-fed sender does not have."""
    handle = sender._handle_rtcp_packet

    async def observed(packet: Any) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
            source.request_keyframe()
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            with contextlib.suppress(ValueError):
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
                if sender._ssrc in ssrcs:
                    track.estimate = bitrate
                    source.retarget()
        await handle(packet)

    sender._handle_rtcp_packet = observed  # type: ignore[method-assign]
