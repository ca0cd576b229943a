"""The cart's side of one participant's media: an aiortc peer connection that sends the active
camera and the microphone, and receives nothing (the kiosk's own browser receives the
participants, see room.py).

aiortc has no ICE restart: when the path breaks, the connection is replaced by a new one, offered
again through the signalling, which the participant's page accepts by itself.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)

from agent.config import CallConfig, IceServer
from agent.devices.cameras import CameraHub
from agent.devices.microphone import Microphone
from agent.media.shared_audio import AudioPacketTrack, shared_audio
from agent.media.shared_video import PacketTrack, SharedVideo, listen_to_receiver
from agent.media.tracks import CartVideoTrack

log = logging.getLogger("agent.call")

Send = Callable[[dict[str, Any]], Awaitable[None]]


def turn_credential(secret: str, name: str, expires: int) -> tuple[str, str]:
    """coturn's time-limited credential (use-auth-secret, the "TURN REST API"): the username says
    until when and for whom, the password is its HMAC-SHA1 under the shared secret. A participant
    can use it until `expires` (seconds since the epoch), for nothing else."""
    username = f"{expires}:{name}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def _credentials(server: IceServer, name: str, expires: int) -> tuple[str | None, str | None]:
    if server.secret:
        return turn_credential(server.secret, name, expires)
    return server.username or None, server.credential or None


def rtc_configuration(config: CallConfig, expires: int) -> RTCConfiguration:
    """The configured servers only: aiortc's default is a public STUN server, useless to an offline
    cart and a leak of its address to a third party."""
    servers = []
    for server in config.ice_servers:
        username, credential = _credentials(server, "cart", expires)
        servers.append(RTCIceServer(urls=server.urls, username=username, credential=credential))
    policy = RTCIceTransportPolicy.RELAY if config.ice_transport_policy == "relay" else RTCIceTransportPolicy.ALL
    return RTCConfiguration(iceServers=servers, iceTransportPolicy=policy)


def browser_ice_servers(config: CallConfig, name: str, expires: int) -> list[dict[str, Any]]:
    """The same servers as a browser's RTCPeerConnection takes them, with this participant's own
    credential when coturn's shared secret is configured (the secret never leaves the cart)."""
    servers = []
    for server in config.ice_servers:
        username, credential = _credentials(server, name, expires)
        servers.append({"urls": server.urls, **({"username": username, "credential": credential} if username else {})})
    return servers


def send_cart_media(pc: RTCPeerConnection, video: MediaStreamTrack, audio: MediaStreamTrack, codec: str,
                    shared: SharedVideo | None) -> RTCRtpSender:
    """The cart's camera and microphone on `pc`, sent only: `codec` preferred (with its
    retransmissions), and what the receiver reports routed to the shared encoders when the
    picture is one of theirs. Returns the video's sender."""
    sender = add_cart_video(pc, video, codec, shared)
    pc.addTransceiver(audio, direction="sendonly")
    return sender


def add_cart_video(pc: RTCPeerConnection, video: MediaStreamTrack, codec: str, shared: SharedVideo | None,
                   also: PacketTrack | None = None) -> RTCRtpSender:
    """`also`: the connection's other picture, which the receiver's estimate covers too (listen_to_receiver)."""
    transceiver = pc.addTransceiver(video, direction="sendonly")
    if shared is not None and isinstance(video, PacketTrack):
        listen_to_receiver(transceiver.sender, video, shared, also)
    codecs = RTCRtpSender.getCapabilities("video").codecs
    transceiver.setCodecPreferences([c for c in codecs if c.mimeType == "video/" + codec] +
                                    [c for c in codecs if c.mimeType == "video/rtx"])
    return transceiver.sender


class CartPeer:
    def __init__(self, member_id: str, hub: CameraHub, microphone: Microphone, config: CallConfig, send: Send,
                 on_failed: Callable[[str], None], expires: int, shared: SharedVideo | None = None) -> None:
        self.member_id = member_id
        self._shared = shared  # VP8: the camera encoded once for every participant (agent/media/shared_video.py)
        self._expires = expires  # the end of the room: TURN credentials made for it last that long
        self._hub, self._microphone, self._config, self._send = hub, microphone, config, send
        self._on_failed = on_failed
        self.pc: RTCPeerConnection | None = None
        self._video: CartVideoTrack | PacketTrack | None = None
        self._audio: AudioPacketTrack | None = None
        self._video_sender: RTCRtpSender | None = None
        self.video_enabled = True
        self.started_at = time.monotonic()
        self._sending = SendingStats(config.video_codec)

    async def offer(self) -> None:
        """A new connection (the first, or one replacing a broken one) offered to the participant."""
        await self.close()
        pc = RTCPeerConnection(rtc_configuration(self._config, self._expires))
        self.pc = pc
        self._video = self._shared.viewer() if self._shared is not None else CartVideoTrack(self._hub)
        self._audio = shared_audio(self._microphone).listener()  # Opus encoded once, with FEC
        self._video_sender = send_cart_media(pc, self._video, self._audio, self._config.video_codec, self._shared)
        if not self.video_enabled:
            self.set_video(False)

        @pc.on("connectionstatechange")
        async def _state() -> None:
            log.info("cart peer %s: %s", self.member_id, pc.connectionState)
            if pc.connectionState == "failed" and pc is self.pc:
                self._on_failed(self.member_id)

        await pc.setLocalDescription(await pc.createOffer())  # gathers every candidate first
        if "a=candidate" not in pc.localDescription.sdp:
            # aioice drops a refused or unreachable TURN server silently: say it, or the participant
            # waits for a picture that cannot come.
            log.warning("cart peer %s: no ICE candidate gathered (TURN server unreachable or credentials refused?)", self.member_id)
            await self._send({"type": "error", "text": "Le chariot n'obtient aucune voie réseau pour l'image "
                              "(serveur relais injoignable ou refusé). Prévenez l'établissement."})
        await self._send({"type": "signal", "from": "cart",
                          "description": {"type": pc.localDescription.type, "sdp": pc.localDescription.sdp}})

    async def accept(self, description: dict[str, str]) -> None:
        if self.pc is None or self.pc.signalingState != "have-local-offer":
            raise ValueError("no offer awaits an answer")
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=description["sdp"], type=description["type"]))

    def set_video(self, enabled: bool) -> None:
        """« Connexion faible », chosen by the participant: sound, and the camera as a still picture
        made again every few seconds (VP8, agent/media/ladder.py's STILL); H.264's per-participant
        encoder sends no picture at all."""
        self.video_enabled = enabled
        if isinstance(self._video, PacketTrack):
            self._video.set_still(not enabled)
        elif self._video_sender is not None:
            self._video_sender.replaceTrack(self._video if enabled else None)

    @property
    def connection_state(self) -> str:
        return self.pc.connectionState if self.pc else "closed"

    async def stats(self) -> dict[str, Any]:
        return await self._sending.read(self.pc, self._video, self._audio)

    async def close(self) -> None:
        pc, self.pc = self.pc, None
        stop_tracks(self._video, self._audio)
        self._video = self._audio = None
        await close_quietly(pc, f"cart peer {self.member_id}")


class SendingStats:
    """What the cart knows of its sending on one peer connection (to a participant, or its one
    publication into Janus): bitrate since the last reading, RTCP's loss and round trip, frames
    sent, the ladder's rung."""

    def __init__(self, codec: str) -> None:
        self.codec = codec
        self._last_bytes: tuple[float, int] | None = None

    async def read(self, pc: RTCPeerConnection | None, video: CartVideoTrack | PacketTrack | None,
                   audio: AudioPacketTrack | None = None) -> dict[str, Any]:
        result: dict[str, Any] = {"state": pc.connectionState if pc else "closed", "codec": self.codec}
        if pc is None:
            return result
        # The sender of the picture `video` alone: Janus's publication has a second, small one,
        # whose figures are not these
        sender = next((sender for sender in pc.getSenders() if video is not None and sender.track is video), None)
        report = await (sender.getStats() if sender is not None else pc.getStats())
        for item in report.values():
            if item.type == "outbound-rtp" and item.kind == "video":
                now = time.monotonic()
                if self._last_bytes is not None and now > self._last_bytes[0]:
                    result["bitrate_kbps"] = round((item.bytesSent - self._last_bytes[1]) * 8 / (now - self._last_bytes[0]) / 1000, 1)
                self._last_bytes = (now, item.bytesSent)
                result["packets_sent"] = item.packetsSent
            elif item.type == "remote-inbound-rtp" and item.kind == "video":
                result["packets_lost"] = item.packetsLost
                result["rtt_ms"] = round(item.roundTripTime * 1000, 1) if item.roundTripTime is not None else None
                result["fraction_lost"] = item.fractionLost
        if isinstance(video, (PacketTrack, CartVideoTrack)):
            result["frames_sent"] = video.frames_sent
            result["width"], result["height"] = video.size
        if isinstance(video, PacketTrack) and video.held_ms is not None:
            result["held_ms"] = round(video.held_ms, 1)
        if isinstance(video, PacketTrack) and video.rung is not None:
            result["quality"] = video.rung.name  # its place on the ladder (agent/media/ladder.py)
            result["estimate_kbps"] = round(video.link.bitrate / 1000) if video.link.bitrate else None  # sound included
        if audio is not None and (spread := audio.spread_ms) is not None:
            result["sound_spread_ms"] = round(spread, 1)
        return result


def stop_tracks(*tracks: MediaStreamTrack | None) -> None:
    """The cart's tracks on a connection that ends: their shared encoders lose a viewer."""
    for track in tracks:
        if track is not None:
            track.stop()


async def close_quietly(pc: RTCPeerConnection | None, what: str) -> None:
    """A connection closed within 5 s, whatever it says: closing must not fail the room."""
    if pc is None:
        return
    try:
        async with asyncio.timeout(5):
            await pc.close()
    except (TimeoutError, Exception):  # noqa: BLE001
        log.warning("%s: close failed", what, exc_info=True)
