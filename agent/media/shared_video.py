"""The cart's camera encoded once for every participant on the same rung of the quality ladder
(issue 16): one VP8 encoder per rung in use, its packets handed to each participant's sender,
which packs an av.Packet into RTP without encoding it again (aiortc's RTCRtpSender). Three
viewers on a good link cost about one; a viewer on a poor link gets a smaller picture of its
own (agent/media/ladder.py) instead of lowering everybody's.

What each viewer's receiver reports is routed here: a key frame asked by a viewer (PLI, FIR, or
joining) is made by its rung's encoder for everyone on it, at most once per KEYFRAME_INTERVAL; its
estimate (REMB) and its losses (receiver reports) place it on the ladder, and each encoder runs
at the weakest of its viewers' rates. A viewer whose sender falls behind loses its queue and
waits for the next key frame rather than decoding a broken picture.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import Any

import av
from aiortc.codecs.vpx import DEFAULT_BITRATE, number_of_threads
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpsender import RTCRtpSender
from aiortc.rtp import RTCP_PSFB_APP, RTCP_PSFB_FIR, RTCP_PSFB_PLI, RtcpPsfbPacket, RtcpRrPacket, RtcpSrPacket, unpack_remb_fci
from av.video.reformatter import VideoReformatter

from agent.devices.cameras import CameraHub
from agent.media.frames import CLOCK_RATE, TIME_BASE
from agent.media.ladder import SOUND_ON_THE_WIRE, STILL, Climber, LinkEstimate, OutputRate, Rung
from agent.media.tracks import CameraFrames

log = logging.getLogger("agent.media")

KEYFRAME_INTERVAL = 0.5  # seconds: a burst of requests (three viewers losing the same packet) makes one key frame
QUEUE_PACKETS = 4  # a sender this far behind is dropped to the next key frame
BITRATE_STEP = 0.1  # a new target within 10 % of the current one does not restart the encoder
LEAST_BITRATE = 30_000  # bit/s: under this libvpx makes no picture worth sending


class SharedVideo:
    """The camera's encoders, one per rung someone watches, each alive while it has a viewer."""

    def __init__(self, hub: CameraHub) -> None:
        self._hub = hub
        self.encodings: dict[Rung, Encoding] = {}

    def now_pts(self) -> int:
        """Now, on the clock the camera's frames are stamped with."""
        return self._hub.slot.now_pts()

    def viewer(self, top: int = 0, still: bool = False) -> PacketTrack:
        """A track for one participant's sender, on the top rung (or rung `top` of the ladder at
        most), or the still picture; it starts at the next key frame."""
        track = PacketTrack(self, top)
        track.still = still
        self.place(track)
        return track

    def place(self, track: PacketTrack) -> None:
        """Puts a viewer on the encoding of its rung: the still picture when its person chose
        « connexion faible », else the rung its link carries."""
        if track.readyState != "live":  # a late report for a stopped track must not start an encoder
            return
        current = track.encoding
        rung = STILL if track.still else track.climber.follow(track.link.for_video, track.link.lossy)
        if current is not None and current.rung == rung:
            current.retarget()
            return
        if current is not None:
            log.info("video viewer moves from %s to %s (estimate %s bit/s)", current.rung.name, rung.name, track.link.bitrate)
            self._leave(current, track)
        encoding = self.encodings.get(rung)
        if encoding is None:
            encoding = self.encodings[rung] = Encoding(self._hub, rung)
        encoding.join(track)

    def leave(self, track: PacketTrack) -> None:
        if track.encoding is not None:
            self._leave(track.encoding, track)

    def _leave(self, encoding: Encoding, track: PacketTrack) -> None:
        encoding.leave(track)
        if not encoding.viewers:
            self.encodings.pop(encoding.rung, None)

    def request_keyframe(self) -> None:
        for encoding in self.encodings.values():
            encoding.request_keyframe()

    @property
    def frames_encoded(self) -> int:
        return sum(e.frames_encoded for e in self.encodings.values())


class Encoding:
    """One rung's encoder: the camera's frames at the rung's size and rate, encoded for the
    viewers on it at the weakest of their rates."""

    def __init__(self, hub: CameraHub, rung: Rung) -> None:
        self._hub = hub
        self.rung = rung
        self.viewers: set[PacketTrack] = set()
        self._task: asyncio.Task[None] | None = None
        self._keyframe_wanted = True
        self._last_keyframe = 0.0
        self.bitrate = min(DEFAULT_BITRATE, rung.ceiling)  # wanted
        self.encoding_bitrate = 0  # what the encoder runs at (after the next frame)
        self.frames_encoded = 0
        self.size = (0, 0)
        self.output = OutputRate()

    @property
    def app_limited(self) -> bool:
        """It puts out far less than it is given (a still picture): its viewers' estimates then
        follow what they receive, not what their links carry."""
        return self.encoding_bitrate > 0 and self.output.app_limited(self.encoding_bitrate)

    def join(self, track: PacketTrack) -> None:
        self.viewers.add(track)
        track.move_to(self)
        self.retarget()
        self.request_keyframe()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(CameraFrames(self._hub)))

    def leave(self, track: PacketTrack) -> None:
        self.viewers.discard(track)
        if self.viewers:
            self.retarget()  # the weakest may have left
        elif self._task is not None:
            self._task.cancel()
            self._task = None

    def request_keyframe(self) -> None:
        self._keyframe_wanted = True

    def retarget(self) -> None:
        """The weakest viewer's estimate (less the sound's share), within the rung's range; the
        encoder restarts only for a real change."""
        # A viewer not heard from yet counts as a new connection does in aiortc: DEFAULT_BITRATE
        # (a path just opened has not shown what it carries).
        estimates = [v.link.for_video or DEFAULT_BITRATE for v in self.viewers]
        if not estimates:
            return
        target = max(LEAST_BITRATE, min(self.rung.ceiling, min(estimates)))
        if abs(target - self.bitrate) / self.bitrate > BITRATE_STEP:
            self.bitrate = target  # libvpx takes a new rate only at its start: the encoder restarts, a key frame for all

    async def _run(self, frames: CameraFrames) -> None:
        # An encoder of this run's own: a run cancelled while its thread still encodes (the last
        # viewer left, another came at once) must never share a libvpx context with the next one.
        encoder = _Encoder()
        loop = asyncio.get_running_loop()
        # The next frame taken: a rung slower than the camera skips frames (with half a camera
        # frame of slack, so that 15 of 30 frames a second are taken, not 10).
        interval = CLOCK_RATE / self.rung.fps
        slack = min(interval / 4, CLOCK_RATE / 60)
        due = 0
        try:
            while True:
                frame = await frames.next()
                if frame.pts < due:
                    continue
                due = frame.pts + interval - slack
                wanted = self._keyframe_wanted and time.monotonic() - self._last_keyframe >= KEYFRAME_INTERVAL
                keyframe = wanted or self.rung.every_frame_a_key
                size = self.rung.size(frame.width, frame.height)
                packets = await loop.run_in_executor(None, encoder.encode, frame, keyframe, self.bitrate, size)
                self.frames_encoded += 1
                self.size, self.encoding_bitrate = encoder.size, encoder.bitrate
                for packet in packets:
                    self.output.add(packet.size)
                    if packet.is_keyframe:
                        self._keyframe_wanted, self._last_keyframe = False, time.monotonic()
                    for viewer in list(self.viewers):
                        viewer.offer(packet)
        except asyncio.CancelledError:
            raise
        except Exception:  # an encoder that fails must say so; the viewers' tracks end with it
            log.exception("shared video encoder stopped")
            for viewer in list(self.viewers):
                viewer.stop()
        finally:
            frames.close()


class _Encoder:
    """libvpx, used by one thread at a time (each frame awaited before the next)."""

    def __init__(self) -> None:
        self._codec: av.VideoCodecContext | None = None
        # Its own scaler: `frame.reformat()` uses the one PyAV caches on the frame, and two rungs'
        # threads scaling the same camera frame at once through one swscale context crash the agent.
        self._scaler = VideoReformatter()
        self.size = (0, 0)
        self.bitrate = 0

    def encode(self, frame: av.VideoFrame, keyframe: bool, bitrate: int, size: tuple[int, int]) -> list[av.Packet]:
        """One frame, at `size`, to VP8 packets stamped for the senders."""
        pts = frame.pts
        if frame.format.name != "yuv420p" or (frame.width, frame.height) != size:
            frame = self._scaler.reformat(frame, width=size[0], height=size[1], format="yuv420p")  # a new frame
        # else the camera's own frame, as shared with any other rung at the camera's size (a camera
        # of 360p or less): their key frame marks may cross, an extra or a late key frame at worst
        if self._codec is None or self.size != size or bitrate != self.bitrate:
            self._codec = _vp8(size[0], size[1], bitrate)
            self.size, self.bitrate = size, bitrate
            keyframe = True  # a new encoder starts with one anyway; say it to the viewers
        frame.pict_type = av.video.frame.PictureType.I if keyframe else av.video.frame.PictureType.NONE
        frame.pts, frame.time_base = pts, TIME_BASE
        packets = self._codec.encode(frame)
        for packet in packets:
            packet.pts, packet.time_base = pts, TIME_BASE
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
    """One viewer's share of its rung's encoder: the packets since its last key frame, at most
    QUEUE_PACKETS behind. `link` is what its receiver says its link carries, `climber` its place
    on the ladder, `still` its person's choice of « connexion faible »."""

    kind = "video"

    def __init__(self, source: SharedVideo, top: int = 0) -> None:
        super().__init__()
        self._source = source
        self.encoding: Encoding | None = None
        self.link = LinkEstimate()
        self.climber = Climber(top)
        self.still = False
        self._queue: asyncio.Queue[av.Packet] = asyncio.Queue(QUEUE_PACKETS)
        self._waiting_keyframe = True
        self._reading = False  # its sender started (aiortc reads once ICE and DTLS are done)
        self.frames_sent = 0
        self.held_ms: float | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self.encoding.size if self.encoding is not None else (0, 0)

    @property
    def rung(self) -> Rung | None:
        return self.encoding.rung if self.encoding is not None else None

    def move_to(self, encoding: Encoding) -> None:
        """On another rung's encoder: what is queued still plays, the new picture starts at its key frame."""
        self.encoding, self._waiting_keyframe = encoding, True

    def set_still(self, still: bool) -> None:
        self.still = still
        self._source.place(self)

    def _ask_keyframe(self) -> None:
        if self.encoding is not None:
            self.encoding.request_keyframe()

    def offer(self, packet: av.Packet) -> None:
        if self._waiting_keyframe and not packet.is_keyframe:
            return
        if self._queue.full():  # its sender fell behind (or has not started): a clean restart at the next key frame
            while not self._queue.empty():
                self._queue.get_nowait()
            self._waiting_keyframe = True
            if self._reading:  # a sender not started yet (ICE, DTLS) asks when it starts, not every 4 frames
                self._ask_keyframe()
            return
        self._waiting_keyframe = False
        self._queue.put_nowait(packet)

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        if not self._reading:  # the transport is up: the picture starts now, at a key frame
            self._reading = True
            if self._queue.empty():
                self._ask_keyframe()
        packet = await self._queue.get()
        self.frames_sent += 1
        # The cart's own share of the glass-to-glass delay, camera frame to aiortc's sender
        # (encoding, the queue): what the technician's page and the bench read as held_ms.
        held = (self._source.now_pts() - packet.pts) / CLOCK_RATE * 1000
        self.held_ms = held if self.held_ms is None else self.held_ms * 0.9 + held * 0.1
        return packet

    def stop(self) -> None:
        if self.readyState == "live":
            self._source.leave(self)
        super().stop()


def listen_to_receiver(sender: RTCRtpSender, track: PacketTrack, source: SharedVideo, also: PacketTrack | None = None) -> None:
    """What this viewer's receiver reports about the picture reaches the shared encoders: aiortc's
    sender would act on it for an encoder of its own, which a packet-fed sender does not have.
    `also`: another picture on the same connection, which the receiver's estimate (REMB, one for
    the whole connection) covers too: Janus names only one of a publication's video streams in it."""
    handle = sender._handle_rtcp_packet

    async def observed(packet: Any) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
            track._ask_keyframe()
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            with contextlib.suppress(ValueError):
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
                if sender._ssrc in ssrcs:
                    for covered in (track, also) if also is not None else (track,):
                        covered.link.on_remb(bitrate, app_limited=covered.encoding is not None and covered.encoding.app_limited)
                        source.place(covered)
        elif isinstance(packet, (RtcpRrPacket, RtcpSrPacket)):
            for report in packet.reports:
                if report.ssrc == sender._ssrc and track.encoding is not None:
                    sending = (track.encoding.encoding_bitrate or track.encoding.bitrate) + SOUND_ON_THE_WIRE
                    track.link.on_loss(report.fraction_lost / 256, sending)
                    source.place(track)
        await handle(packet)

    sender._handle_rtcp_packet = observed  # type: ignore[method-assign]
