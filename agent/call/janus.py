"""Beyond the mesh (issue 16): the cart publishes its camera and microphone ONCE into a Janus
VideoRoom, and the participants subscribe to that one publication through Janus, instead of
the cart sending to each of them (agent/call/cart_peer.py). docs/janus.md says how a region runs
Janus; `[call] sfu_url` and `sfu_from` say when a room goes through it.

Two layers:

- `JanusClient`: Janus's WebSocket API (subprotocol `janus-protocol`) over aiohttp. Sessions,
  plugin handles, requests matched to their answers by transaction, the events Janus sends on
  its own (webrtcup, media, hangup…) queued per handle, a keepalive (Janus drops a session it
  has not heard from for 60 s), a clean close. Whatever Janus refuses, its core or the plugin,
  is raised as `JanusError` with Janus's code and reason.
- `JanusRoom`: the cart's side of one consultation's VideoRoom: made (or found again), the cart
  published through one aiortc RTCPeerConnection whose video is a viewer of the camera's
  `SharedVideo` (what Janus's receiver reports, PLI and REMB, routed to the shared encoder) and
  whose sound is the microphone's `shared_audio` listener; `subscription()` is what a
  participant's page needs to subscribe by itself (Janus's URL, the room, the cart's feed and the
  room's PIN), as plain data.

The room (agent/call/room.py) goes through Janus from `[call] sfu_from` participants on, by
agent/call/sfu_path.py: the cart negotiates each participant's publication and subscriptions on
their behalf (`publish_for`, `subscribe`, `start`), so their pages never speak to Janus.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from agent.call.cart_peer import SendingStats, add_cart_video, close_quietly, stop_tracks
from agent.call.sfu_quality import SMALL
from agent.devices.microphone import Microphone
from agent.media.ladder import LADDER
from agent.media.shared_audio import AudioPacketTrack, shared_audio
from agent.media.shared_video import PacketTrack, SharedVideo

log = logging.getLogger("agent.call")

PROTOCOL = "janus-protocol"  # Janus closes a WebSocket that does not ask for it
VIDEOROOM = "janus.plugin.videoroom"
KEEPALIVE = 25.0  # seconds: Janus's session_timeout is 60 s by default
REQUEST_TIMEOUT = 10.0  # seconds for Janus to answer a request (a plugin's event included)
ROOM_BITRATE = LADDER[0].ceiling  # what Janus's REMB lets the cart send: the ladder's top rung

# Janus's codes a caller may want to tell apart (janus/apierror.h, plugins/janus_videoroom.c)
NO_SUCH_ROOM = 426
ROOM_EXISTS = 427
UNAUTHORIZED = 433
ID_EXISTS = 436


class JanusError(Exception):
    """Janus refused a request, or could not be reached: `code` is Janus's own (0: no answer, the
    connection is gone), `reason` its words."""

    def __init__(self, code: int, reason: str, request: str = "") -> None:
        self.code, self.reason, self.request = code, reason, request
        super().__init__(f"Janus refused {request or 'a request'}: {code} {reason}")


def _refusal(message: dict[str, Any], request: str) -> JanusError | None:
    """The error a Janus answer carries, from its core (`"janus": "error"`) or from the plugin
    (`error_code` in its data), else None."""
    if message.get("janus") == "error":
        error = message.get("error") or {}
        return JanusError(int(error.get("code", 0)), str(error.get("reason", "unknown error")), request)
    data = (message.get("plugindata") or {}).get("data") or {}
    if "error_code" in data or "error" in data:
        return JanusError(int(data.get("error_code", 0)), str(data.get("error", "unknown error")), request)
    return None


class JanusClient:
    """One WebSocket to Janus, holding at most one session (`create_session`).

        async with await JanusClient.connect("ws://127.0.0.1:8188") as janus:
            await janus.create_session()
            room = await janus.attach(VIDEOROOM)
            created = await room.message({"request": "create", ...})
    """

    def __init__(self, url: str, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.url = url
        self._http, self._ws = http, ws
        self._transactions = (f"t{n}" for n in itertools.count(1))
        self._waiting: dict[str, tuple[asyncio.Future[dict[str, Any]], bool]] = {}  # transaction: (answer, an ack answers)
        self._handles: dict[int, JanusHandle] = {}
        self.session_id: int | None = None
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self._keepalive: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()  # set when the WebSocket is gone (closed by us or lost)

    @classmethod
    async def connect(cls, url: str, timeout: float = REQUEST_TIMEOUT) -> JanusClient:
        http = aiohttp.ClientSession()
        try:
            ws = await http.ws_connect(url, protocols=(PROTOCOL,), timeout=aiohttp.ClientWSTimeout(ws_close=timeout),
                                       heartbeat=None, max_msg_size=0)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            await http.close()
            raise JanusError(0, f"cannot reach {url}: {exc}", "connect") from exc
        return cls(url, http, ws)

    async def __aenter__(self) -> JanusClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # --- requests --------------------------------------------------------------------------------

    async def request(self, body: dict[str, Any], *, ack_answers: bool = False, timeout: float = REQUEST_TIMEOUT) -> dict[str, Any]:
        """Sends `body` (its `janus` verb set, the session added when there is one) and returns
        Janus's answer to it: `success`, or a plugin's `event` for an asynchronous plugin request
        (its `ack` skipped, unless `ack_answers`). A refusal raises JanusError."""
        if self.closed.is_set():
            raise JanusError(0, "the connection to Janus is closed", body.get("janus", ""))
        transaction = next(self._transactions)
        message = {**body, "transaction": transaction}
        if self.session_id is not None and "session_id" not in message and body["janus"] not in ("create", "info"):
            message["session_id"] = self.session_id
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[transaction] = (answer, ack_answers)
        name = body["janus"] if body["janus"] != "message" else str(body.get("body", {}).get("request", "message"))
        try:
            await self._ws.send_json(message)
            async with asyncio.timeout(timeout):
                reply = await answer
        except TimeoutError as exc:
            raise JanusError(0, f"no answer within {timeout:g} s", name) from exc
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise JanusError(0, f"connection lost: {exc}", name) from exc
        finally:
            self._waiting.pop(transaction, None)
        refusal = _refusal(reply, name)
        if refusal is not None:
            raise refusal
        return reply

    async def info(self) -> dict[str, Any]:
        """The server's description (version, plugins, transports): answers without a session."""
        return await self.request({"janus": "info"})

    async def create_session(self) -> int:
        reply = await self.request({"janus": "create"})
        self.session_id = int(reply["data"]["id"])
        self._keepalive = asyncio.get_running_loop().create_task(self._keep_alive())
        return self.session_id

    async def attach(self, plugin: str = VIDEOROOM) -> JanusHandle:
        if self.session_id is None:
            await self.create_session()
        reply = await self.request({"janus": "attach", "plugin": plugin})
        handle = JanusHandle(self, int(reply["data"]["id"]), plugin)
        self._handles[handle.id] = handle
        return handle

    async def close(self) -> None:
        """Ends the session (its handles and their peer connections with it) and the WebSocket."""
        if self._keepalive is not None:
            self._keepalive.cancel()
        if self.session_id is not None and not self.closed.is_set():
            with contextlib.suppress(JanusError):
                await self.request({"janus": "destroy"}, timeout=3)
        self.session_id = None
        await self._ws.close()
        await self._http.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        self.closed.set()

    # --- what Janus sends ------------------------------------------------------------------------

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE)
            try:
                await self.request({"janus": "keepalive"}, ack_answers=True)
            except JanusError as exc:
                log.warning("Janus keepalive: %s", exc)
                if exc.code == 0:
                    return

    async def _read(self) -> None:
        try:
            async for frame in self._ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    message = frame.json()
                except ValueError:
                    log.warning("Janus sent something that is not JSON: %.200s", frame.data)
                    continue
                self._dispatch(message)
        finally:
            self.closed.set()
            for answer, _ in self._waiting.values():
                if not answer.done():
                    answer.set_result({"janus": "error", "error": {"code": 0, "reason": "the connection to Janus closed"}})
            for handle in self._handles.values():
                with contextlib.suppress(asyncio.QueueFull):
                    handle.events.put_nowait({"janus": "closed"})

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("janus")
        answer, ack_answers = self._waiting.get(message.get("transaction", ""), (None, False))
        if answer is not None and not answer.done() and (kind != "ack" or ack_answers):
            answer.set_result(message)
            return
        if kind in ("ack", "success") or (kind == "error" and answer is not None):
            return
        handle = self._handles.get(int(message.get("sender") or 0))
        if handle is not None:
            if not handle.events.full():  # nobody reads a subscription's events (media, slowlink…): keep the first ones only
                handle.events.put_nowait(message)
        elif kind == "timeout":
            log.warning("Janus ended the session %s (timeout)", message.get("session_id"))
        else:
            log.debug("Janus event for nobody: %s", message)


class JanusHandle:
    """One plugin handle of the session: its requests, and the events Janus sends about it."""

    def __init__(self, client: JanusClient, handle_id: int, plugin: str) -> None:
        self.client, self.id, self.plugin = client, handle_id, plugin
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=200)

    async def message(self, body: dict[str, Any], jsep: dict[str, str] | None = None, timeout: float = REQUEST_TIMEOUT) -> dict[str, Any]:
        """A request to the plugin: returns the plugin's data, with the answer's `jsep` (Janus's
        SDP, when it has one) under the key "jsep"."""
        request: dict[str, Any] = {"janus": "message", "handle_id": self.id, "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        reply = await self.client.request(request, timeout=timeout)
        data = dict((reply.get("plugindata") or {}).get("data") or {})
        if "jsep" in reply:
            data["jsep"] = reply["jsep"]
        return data

    async def event(self, wanted: Callable[[dict[str, Any]], bool], timeout: float = REQUEST_TIMEOUT) -> dict[str, Any]:
        """The next event Janus sends about this handle that `wanted` accepts (others are dropped)."""
        async def wait() -> dict[str, Any]:
            while True:
                event = await self.events.get()
                if event.get("janus") == "closed":
                    raise JanusError(0, "the connection to Janus closed", "event")
                if wanted(event):
                    return event
        try:
            async with asyncio.timeout(timeout):
                return await wait()
        except TimeoutError as exc:
            raise JanusError(0, f"no such event within {timeout:g} s", "event") from exc

    async def detach(self) -> None:
        with contextlib.suppress(JanusError):
            await self.client.request({"janus": "detach", "handle_id": self.id}, timeout=3)
        self.client._handles.pop(self.id, None)


# --- the cart's VideoRoom ----------------------------------------------------------------------


def janus_room_id(room: str) -> int:
    """The VideoRoom number of a consultation's room (Janus numbers its rooms unless configured
    otherwise): stable, and under 2**53 so that a page's JavaScript holds it exactly."""
    return int.from_bytes(hashlib.sha256(f"telecart:{room}".encode()).digest()[:8], "big") >> 11


def subscriber_streams(feed: int, mids: Iterable[str] = ()) -> list[dict[str, Any]]:
    """A subscriber's `streams` in Janus's `join`: those of `feed`'s streams (its mids), or all of them."""
    return [{"feed": feed, "mid": mid} for mid in mids] or [{"feed": feed}]


@dataclass(frozen=True)
class Subscription:
    """What a participant's page needs to subscribe to the cart by itself, through Janus's own
    WebSocket API: join the room as a subscriber of `feed`'s `streams` (the sound and the large
    picture, not the small one) with `pin`, answer Janus's offer, start."""

    url: str  # Janus's WebSocket, as a browser reaches it (wss:// outside the test bench)
    room: int
    feed: int
    pin: str
    mids: tuple[str, ...] = ()

    @property
    def streams(self) -> list[dict[str, Any]]:
        return subscriber_streams(self.feed, self.mids)

    def as_json(self) -> dict[str, Any]:
        return {"url": self.url, "room": self.room, "feed": self.feed, "pin": self.pin, "streams": self.streams}


class JanusRoom:
    """One consultation's VideoRoom on Janus, with the cart published in it once.

    `pin` is asked of whoever joins (the cart and each participant: only pages that were given
    `subscription()` can watch), `secret` of whoever would edit or destroy the room; both random
    unless given (give them, derived from something the cart keeps, to find a room again after
    the cart restarted). `admin_key` is Janus's own key for creating rooms, when its VideoRoom is
    configured with one (docs/janus.md). `public_url` is Janus's address as the participants'
    browsers reach it, when it differs from the cart's `url`.
    """

    def __init__(self, url: str, room: str, shared: SharedVideo, microphone: Microphone, *,
                 pin: str | None = None, secret: str | None = None, admin_key: str = "", public_url: str = "",
                 rtc: RTCConfiguration | None = None, description: str = "Telecart") -> None:
        self.url, self.public_url = url, public_url or url
        self.room_name = room
        self.room_id = janus_room_id(room)
        self.pin = pin or secrets.token_urlsafe(18)
        self.secret = secret or secrets.token_urlsafe(18)
        self._admin_key = admin_key
        self._shared, self._microphone = shared, microphone
        self._rtc = rtc or RTCConfiguration(iceServers=[])
        self._description = description
        self.client: JanusClient | None = None
        self._handle: JanusHandle | None = None  # the room's management: exists, create, listparticipants, destroy
        self._publisher: JanusHandle | None = None  # the cart's publication, a handle of its own
        self.pc: RTCPeerConnection | None = None
        self.video: PacketTrack | None = None
        self.small_video: PacketTrack | None = None  # the small picture (agent/call/sfu_quality.py)
        self.audio: AudioPacketTrack | None = None
        self.feed: int | None = None
        self.mids: dict[str, str] = {}  # the publication's streams: "video", "audio", "small"
        self.created = False  # this object created the room (else it found it)
        self._sending = SendingStats("VP8")
        self._publications: dict[str, tuple[JanusHandle, int]] = {}  # a participant's: their handle and feed
        self._subscriptions: dict[tuple[str, str], JanusHandle] = {}  # (who watches, whose feed)
        self._video_mids: dict[tuple[str, str], list[str]] = {}  # the subscriptions' picture streams

    async def open(self) -> None:
        """Connects to Janus and makes the room, or finds it when it exists (the same pin is
        needed to publish in it)."""
        self.client = await JanusClient.connect(self.url)
        await self.client.create_session()
        self._handle = await self.client.attach(VIDEOROOM)
        exists = await self._handle.message({"request": "exists", "room": self.room_id})
        if exists.get("exists"):
            return
        create = {"request": "create", "room": self.room_id, "description": self._description[:100], "is_private": True,
                  "pin": self.pin, "secret": self.secret, "publishers": 16, "bitrate": ROOM_BITRATE, "fir_freq": 10,
                  "audiocodec": "opus", "videocodec": "vp8", "notify_joining": False, "permanent": False}
        if self._admin_key:
            create["admin_key"] = self._admin_key
        try:
            await self._handle.message(create)
            self.created = True
        except JanusError as exc:
            if exc.code != ROOM_EXISTS:  # another of the cart's tasks made it meanwhile
                raise

    async def publish(self) -> Subscription:
        """Publishes the cart's camera and microphone once, through one peer connection to Janus;
        returns what the participants need to subscribe. Replaces an earlier publication."""
        if self.client is None:
            await self.open()
        assert self.client is not None
        await self.unpublish()
        self._publisher = await self.client.attach(VIDEOROOM)
        joined = await self._publisher.message({"request": "join", "ptype": "publisher", "room": self.room_id, "pin": self.pin,
                                                "display": "chariot"})
        self.feed = int(joined["id"])
        pc = self.pc = RTCPeerConnection(self._rtc)
        self.video = self._shared.viewer()
        # The small picture, a still every few seconds until a viewer is moved to it (SfuPath)
        self.small_video = self._shared.viewer(top=SMALL, still=True)
        self.audio = shared_audio(self._microphone).listener()
        # Janus's PLI and REMB reach the shared encoders; its REMB names one of the two pictures, and is for both
        add_cart_video(pc, self.video, "VP8", self._shared, also=self.small_video)
        pc.addTransceiver(self.audio, direction="sendonly")
        add_cart_video(pc, self.small_video, "VP8", self._shared, also=self.video)

        @pc.on("connectionstatechange")
        async def _state() -> None:
            log.info("Janus publisher of room %s: %s", self.room_name, pc.connectionState)

        await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers every candidate first: no trickle
        self.mids = dict(zip(("video", "audio", "small"), (t.mid for t in pc.getTransceivers()), strict=True))
        configured = await self._publisher.message({"request": "configure", "audio": True, "video": True},
                                                jsep={"type": pc.localDescription.type, "sdp": pc.localDescription.sdp})
        answer = configured.get("jsep")
        if not answer:
            raise JanusError(0, "Janus answered the publication without an SDP answer", "configure")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
        return self.subscription()

    async def wait_up(self, timeout: float = REQUEST_TIMEOUT) -> None:
        """Until Janus says the publication's media path is up (`webrtcup`)."""
        assert self._publisher is not None
        await self._publisher.event(lambda e: e.get("janus") == "webrtcup", timeout)

    async def sending(self) -> dict[str, Any]:
        """The cart's publication as the technician's page shows a participant's sending."""
        return await self._sending.read(self.pc, self.video, self.audio)

    def subscription(self) -> Subscription:
        if self.feed is None:
            raise RuntimeError("the cart has not published in the room yet")
        return Subscription(self.public_url, self.room_id, self.feed, self.pin, (self.mids["audio"], self.mids["video"]))

    async def participants(self) -> list[dict[str, Any]]:
        """Janus's list of who is in the room (id, display, publisher: whether they send media)."""
        assert self._handle is not None
        listed = await self._handle.message({"request": "listparticipants", "room": self.room_id})
        return list(listed.get("participants", []))

    # --- the participants' media, negotiated by the cart on their behalf ----------------------------

    def feed_of(self, owner: str) -> int | None:
        publication = self._publications.get(owner)
        return publication[1] if publication else None

    async def publish_for(self, owner: str, offer: dict[str, str]) -> dict[str, str]:
        """A participant's camera and microphone into the room: their browser's whole offer in,
        Janus's answer out. Their page never speaks to Janus (nor learns its PIN): the cart joins
        for them, under their member id."""
        await self.withdraw(owner)
        handle, (joined, _), answer = await self._negotiated([
            ({"request": "join", "ptype": "publisher", "room": self.room_id, "pin": self.pin, "display": owner}, None),
            ({"request": "configure", "audio": True, "video": True}, offer)], "Janus answered the publication without an SDP answer")
        self._publications[owner] = (handle, int(joined["id"]))
        return answer

    async def wait_published(self, owner: str, timeout: float = REQUEST_TIMEOUT) -> None:
        """Until Janus says `owner`'s publication is up: before, a subscription to it is refused
        (428, no such feed)."""
        publication = self._publications.get(owner)
        if publication is None:
            raise JanusError(0, f"{owner} has not published", "event")
        await publication[0].event(lambda e: e.get("janus") == "webrtcup", timeout)

    async def withdraw(self, owner: str) -> None:
        """A participant's publication out of the room (Janus hangs up their path, and their
        subscribers' paths to them)."""
        publication = self._publications.pop(owner, None)
        if publication is not None:
            await publication[0].detach()

    async def subscribe(self, viewer: str, owner: str, feed: int, mids: list[str] | None = None) -> dict[str, str]:
        """`viewer` to receive `owner`'s feed (those of its streams, when `mids`): Janus's offer,
        for the viewer's page to answer (`start`). Replaces an earlier subscription of the same pair."""
        await self.unsubscribe(viewer, owner)
        handle, (joined,), offer = await self._negotiated([
            ({"request": "join", "ptype": "subscriber", "room": self.room_id, "pin": self.pin,
              "streams": subscriber_streams(feed, mids or ())}, None)],
            "Janus gave no offer for the subscription")
        self._video_mids[(viewer, owner)] = [str(s["mid"]) for s in joined.get("streams", []) if s.get("type") == "video"]
        self._subscriptions[(viewer, owner)] = handle
        return offer

    async def start(self, viewer: str, owner: str, answer: dict[str, str]) -> None:
        handle = self._subscriptions.get((viewer, owner))
        if handle is None:
            raise JanusError(0, f"{viewer} has no subscription to {owner}", "start")
        await handle.message({"request": "start"}, jsep=answer)

    async def send_video(self, viewer: str, owner: str, send: bool) -> None:
        """Janus forwards `owner`'s picture to `viewer`, or holds it back (their sound goes on):
        « connexion faible » through Janus, which has one picture per publication."""
        await self._configure_pictures(viewer, owner, {"send": send})

    async def small_layer(self, viewer: str, owner: str, small: bool) -> None:
        """`viewer` gets the low layer of `owner`'s simulcast picture (a participant's page sends
        two, mesh.js), or the highest there is: Janus switches at the layer's next key frame, which
        it asks the publisher for."""
        await self._configure_pictures(viewer, owner, {"substream": 0 if small else 2})

    def watched_by(self, viewer: str) -> list[str]:
        """Whose feeds `viewer` has a subscription to."""
        return [owner for watcher, owner in self._subscriptions if watcher == viewer]

    async def _configure_pictures(self, viewer: str, owner: str, fields: dict[str, Any]) -> None:
        handle, mids = self._subscriptions.get((viewer, owner)), self._video_mids.get((viewer, owner), [])
        if handle is not None and mids:
            await handle.message({"request": "configure", "streams": [{"mid": mid, **fields} for mid in mids]})

    async def unsubscribe(self, viewer: str, owner: str) -> None:
        handle = self._subscriptions.pop((viewer, owner), None)
        self._video_mids.pop((viewer, owner), None)
        if handle is not None:
            await handle.detach()

    async def forget(self, who: str) -> None:
        """Everything of `who` in the room: their publication, what they watch, who watches them."""
        await self.withdraw(who)
        for viewer, owner in [pair for pair in self._subscriptions if who in pair]:
            await self.unsubscribe(viewer, owner)

    async def _negotiated(self, steps: list[tuple[dict[str, Any], dict[str, str] | None]],
                          no_sdp: str) -> tuple[JanusHandle, list[dict[str, Any]], dict[str, str]]:
        """A handle of its own taken through `steps` (a request, with a description or not): the
        handle, Janus's answers, and the SDP the last one carries. Detached when Janus refuses."""
        handle = await self._client().attach(VIDEOROOM)
        try:
            replies = [await handle.message(body, jsep=jsep) for body, jsep in steps]
            sdp = replies[-1].get("jsep")
            if not sdp:
                raise JanusError(0, no_sdp, str(steps[-1][0]["request"]))
        except JanusError:
            await handle.detach()
            raise
        return handle, replies, {"type": sdp["type"], "sdp": sdp["sdp"]}

    def _client(self) -> JanusClient:
        if self.client is None or self.client.closed.is_set():
            raise JanusError(0, "the connection to Janus is closed", "message")
        return self.client

    async def unpublish(self) -> None:
        """The cart's media out of the room (the room stays: the participants' pages wait for it)."""
        pc, self.pc = self.pc, None
        stop_tracks(self.video, self.small_video, self.audio)
        self.video = self.small_video = self.audio = None
        self.mids = {}
        publisher, self._publisher = self._publisher, None
        if publisher is not None and self.client is not None and not self.client.closed.is_set():
            await publisher.detach()  # Janus hangs up its side and takes the feed out of the room
        self.feed = None
        await close_quietly(pc, f"Janus publisher of room {self.room_name}")

    async def close(self, destroy: bool = True) -> None:
        """Tears down: the publication, the room when this object made it (and `destroy`), the
        session and its WebSocket."""
        await self.unpublish()
        if self.client is None:
            return
        if destroy and self.created and self._handle is not None and not self.client.closed.is_set():
            with contextlib.suppress(JanusError):
                await self._handle.message({"request": "destroy", "room": self.room_id, "secret": self.secret}, timeout=3)
        await self.client.close()  # the session's end detaches every handle
        self.client, self._handle = None, None
        self._publications.clear()
        self._subscriptions.clear()
        self._video_mids.clear()
