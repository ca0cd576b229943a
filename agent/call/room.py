"""A room while people are in it: who is there, their sockets, the chat, and the cart's peers.

Topology (docs/architecture.md, "The call"): every remote participant's browser connects
- to the cart's media peer ("cart", aiortc): the cart's camera and microphone, one way;
- to the kiosk's browser ("screen"), when the cart is in the call: the participant's camera and
  voice to the cart's screen and speaker, one way;
- to every other remote participant: both ways (a full mesh, at most three remote browsers).
The cart relays the signalling and the chat; it never decodes a participant's video, which keeps
a 2-core cart for encoding its own.

From `[call] sfu_from` remote participants on, when `[call] sfu_url` is set, the room goes through
the region's Janus instead (agent/call/sfu_path.py): everybody sends once to Janus and receives
the others from it; the cart negotiates every path over the same sockets, and tells the pages
with a `topology` message. It stays there until it closes, or goes back to the mesh when Janus is
lost and the mesh can hold who is left.

Offers: the cart's media peer always offers (it chooses the codec); between browsers, the one who
arrives offers to those already there, and a participant always offers to the kiosk's screen.

The lobby (`[call] lobby`, on by default): anyone but the consulted specialist waits with the name
they typed, seen by the moderators (the nurse at the kiosk, the specialist), until one of them lets
them in or turns them away. A waiting socket receives nothing of the room: no members, no chat, no
media. A forwarded link is therefore not a live camera on a resident.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from agent.audit import Actor
from agent.call import messages
from agent.call.cart_peer import CartPeer, browser_ice_servers
from agent.call.janus import JanusError
from agent.call.sfu_path import SfuPath
from agent.clock import iso
from agent.config import MESH_LIMIT
from agent.links.invitation import ROLE_LABELS, ParticipantRole, Window

if TYPE_CHECKING:
    from agent.config import CallConfig
    from agent.devices.cameras import CameraHub
    from agent.devices.microphone import Microphone
    from agent.media.shared_video import SharedVideo

log = logging.getLogger("agent.call")

CART = "cart"  # the cart as a member; its media peer is addressed as "cart" too
SCREEN = "screen"  # the kiosk's browser, the cart's eyes and ears
MODERATORS = {CART, ParticipantRole.SPECIALIST.value}  # may ask to unmute and remove
def member_of(participant_id: int) -> str:
    """A participant's member id in a room ("p<n>"): the same person whatever their link."""
    return f"p{participant_id}"


SFU_RETRIES = (1.0, 2.0, 4.0)  # seconds between tries to reach Janus again; then the mesh, if it can hold the room
LOBBY_SIZE = 5  # people waiting at once; beyond, a link is told to come back later
WAITING_TEXT = "Vous êtes en salle d'attente. L'équipe soignante ou le médecin va vous faire entrer ; gardez cette page ouverte."


@dataclass
class Member:
    id: str
    name: str
    role: str  # an invitation ParticipantRole value, or "cart"
    socket: web.WebSocketResponse | None = None
    muted: bool = False
    video_off: bool = False
    sharing: bool = False
    audio_only: bool = False
    stats: dict[str, Any] = field(default_factory=dict)
    takes_cart_media: bool = True  # False: the practice mode's simulated doctor, whom nobody watches through

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "role": self.role, "muted": self.muted, "video_off": self.video_off,
                "sharing": self.sharing, "audio_only": self.audio_only}


@dataclass
class Waiting:
    """Someone in the lobby: the name they typed, and the invitation their link belongs to."""

    id: str
    name: str
    invited_as: str | None  # the invitation's name; None for a Visio SMS guest's (a number or an address)
    role: str
    socket: web.WebSocketResponse
    since: str

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "invited_as": self.invited_as, "role": self.role, "since": self.since}


class RoomRefused(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class RoomHost(Protocol):
    """What a live room asks of the calls that hold it (agent/call/calls.py): the devices it
    borrows, the call's settings, and the acts that touch the store."""

    config: CallConfig
    hub: CameraHub
    microphone: Microphone
    shared_video: SharedVideo | None  # VP8: one encoder for every participant

    async def snapshot(self, live: LiveRoom, requested_by: str, actor: Actor | None = None) -> dict[str, Any]: ...

    def observe_stats(self, live: LiveRoom, member: Member) -> None: ...

    async def audit_room(self, live: LiveRoom, action: str, detail: str, actor: Actor | None = None) -> None: ...

    async def member_joined(self, live: LiveRoom, member: Member) -> None: ...

    async def open_sfu(self, live: LiveRoom) -> SfuPath: ...


class LiveRoom:
    def __init__(self, calls: RoomHost, room_id: str, dossier_id: str | None, window: Window) -> None:
        self.calls = calls
        self.id, self.dossier_id, self.window = room_id, dossier_id, window
        self.members: dict[str, Member] = {}
        self.screen: web.WebSocketResponse | None = None
        self.peers: dict[str, CartPeer] = {}
        self.removed: set[str] = set()
        self.lobby: dict[str, Waiting] = {}
        self.admitted: set[str] = set()  # let in once: a reload or a network drop does not send them back to wait
        self.screen_actor: Actor | None = None  # the nurse behind the kiosk's screen; None when it answered alone
        self.chat: list[dict[str, Any]] = []
        self.sfu: SfuPath | None = None  # the room goes through Janus (None: the mesh)
        self._sfu_watch: asyncio.Task[None] | None = None
        self._moving = asyncio.Lock()
        self.closed = False

    # --- the cart -----------------------------------------------------------------------------

    @property
    def cart_in_call(self) -> bool:
        return CART in self.members

    def remotes(self) -> list[Member]:
        return [m for m in self.members.values() if m.id != CART]

    async def cart_enters(self, name: str) -> None:
        if self.cart_in_call:
            return
        hub = self.calls.hub
        self.members[CART] = Member(CART, name, CART, muted=self.calls.microphone.muted, video_off=hub.video_off)
        await self._broadcast({"type": "joined", "member": self.members[CART].public()}, but=None)
        if self.sfu is not None:
            await self._publish_cart(self.sfu)
            return
        for member in self.remotes():
            await self._start_peer(member)

    async def cart_leaves(self) -> None:
        if not self.cart_in_call:
            return
        del self.members[CART]
        for peer in list(self.peers.values()):
            await peer.close()
        self.peers.clear()
        if self.sfu is not None:
            with contextlib.suppress(JanusError):
                await self.sfu.cart_out()
        if self.screen is not None:
            await self._send(self.screen, {"type": "ended", "text": "Vous avez quitté la salle."})
            await self.screen.close()
            self.screen = None
        await self._broadcast({"type": "left", "id": CART, "text": "Le chariot a quitté la salle."}, but=None)

    async def attach_screen(self, socket: web.WebSocketResponse, actor: Actor | None) -> None:
        """The kiosk's browser (re)connects: the cart's member must already be in the call. `actor`
        is the nurse logged in at it; a screen that answered alone (None) cannot let anyone in."""
        if self.screen is not None and self.screen is not socket:
            with contextlib.suppress(Exception):
                await self.screen.close()
        self.screen, self.screen_actor = socket, actor
        await self._send(socket, self._welcome(CART, self.members[CART].name, CART))
        if self.sfu is not None:
            await self.sfu.viewer_in(SCREEN, self.members)
            return
        await self._broadcast({"type": "endpoint", "id": SCREEN}, but=None)

    def detach_screen(self, socket: web.WebSocketResponse) -> None:
        if self.screen is socket:
            self.screen, self.screen_actor = None, None
            if self.sfu is not None:
                asyncio.get_running_loop().create_task(self.sfu.gone(SCREEN))

    # --- remote participants ------------------------------------------------------------------

    def check_can_join(self, member_id: str) -> None:
        if member_id in self.removed:
            raise RoomRefused("Vous avez été retiré de cette salle par l'équipe soignante ou le médecin.")
        most = self.calls.config.max_remote_participants
        if member_id not in self.members and len(self.remotes()) >= most:
            raise RoomRefused(f"La salle est complète : {_in_words(most)} participant{'s' if most > 1 else ''} à distance au plus.")

    async def make_room_for(self, member_id: str) -> None:
        """Through Janus from `sfu_from` participants on; without it (not set, or not answering)
        the mesh takes no more than it holds."""
        count = len(self.remotes()) + (member_id not in self.members)
        config = self.calls.config
        if self.sfu is None and config.sfu_url and config.video_codec == "VP8" and count >= config.sfu_from:
            await self._through_sfu()
        if self.sfu is None and count > MESH_LIMIT:
            raise RoomRefused("La salle est complète : le serveur de visioconférence de la région ne répond pas, et sans lui "
                              "trois participants à distance au plus peuvent entrer. Réessayez dans quelques minutes.")

    async def join(self, member_id: str, name: str, role: str, socket: web.WebSocketResponse, *, takes_cart_media: bool = True) -> Member:
        self.check_can_join(member_id)
        await self.make_room_for(member_id)
        previous = self.members.get(member_id)
        if previous is not None and previous.socket is not None:  # the same link opened again (a reload)
            await self._send(previous.socket, {"type": "ended", "text": "Cette invitation a été ouverte ailleurs."})
            await previous.socket.close()
        member = Member(member_id, name, role, socket=socket, takes_cart_media=takes_cart_media)
        self.members[member_id] = member
        await self._send(socket, self._welcome(member_id, name, role))
        await self._broadcast({"type": "joined", "member": member.public()}, but=member_id)
        if self.sfu is not None:
            await self.sfu.viewer_in(member_id, [o for o in self.members if o != CART or takes_cart_media])
        elif self.cart_in_call:
            await self._start_peer(member)
        await self.calls.member_joined(self, member)
        return member

    # --- the lobby ----------------------------------------------------------------------------

    def needs_admission(self, member_id: str, role: str) -> bool:
        return (self.calls.config.lobby and role != ParticipantRole.SPECIALIST.value
                and member_id not in self.admitted and member_id not in self.members)

    async def wait(self, member_id: str, name: str, invited_as: str | None, role: str, socket: web.WebSocketResponse) -> None:
        """Into the lobby: the moderators hear of it (with a sound on their screens)."""
        if member_id in self.removed:
            raise RoomRefused("L'équipe soignante ne vous a pas fait entrer dans cette salle. Si vous deviez participer, "
                              "contactez l'établissement.")
        previous = self.lobby.get(member_id)
        if previous is not None:  # the same link opened again: the newer page waits in its place
            await self._send(previous.socket, {"type": "ended", "text": "Cette invitation a été ouverte ailleurs."})
            await previous.socket.close()
        elif len(self.lobby) >= LOBBY_SIZE:
            raise RoomRefused("La salle d'attente est pleine : réessayez dans quelques minutes.")
        waiting = Waiting(member_id, name, invited_as, role, socket, iso(datetime.now(UTC)))
        self.lobby[member_id] = waiting
        await self._send(socket, {"type": "lobby_wait", "text": WAITING_TEXT, "name": name})
        await self._lobby_changed(arrived=waiting)

    async def admit(self, member_id: str, by: Actor) -> Member:
        waiting = self.lobby.get(member_id)
        if waiting is None:
            raise RoomRefused("Cette personne n'est plus en salle d'attente.")
        self.check_can_join(member_id)
        await self.make_room_for(member_id)  # refused here, they keep waiting rather than vanish
        del self.lobby[member_id]
        self.admitted.add(member_id)
        await self._lobby_changed()
        await self.calls.audit_room(self, "call.admit", f"{_described(waiting)} admis(e) par {by.login}", by)
        return await self.join(member_id, waiting.name, waiting.role, waiting.socket)

    async def refuse(self, member_id: str, by: Actor) -> None:
        waiting = self.lobby.pop(member_id, None)
        if waiting is None:
            raise RoomRefused("Cette personne n'est plus en salle d'attente.")
        self.removed.add(member_id)
        await self._send(waiting.socket, {"type": "refused", "text": "L'équipe soignante ne vous a pas fait entrer dans la salle. "
                                          "Si vous deviez participer, contactez l'établissement."})
        await waiting.socket.close()
        await self._lobby_changed()
        await self.calls.audit_room(self, "call.refuse", f"{_described(waiting)} non admis(e) par {by.login}", by)

    def _moderator_sockets(self) -> list[web.WebSocketResponse]:
        sockets = [m.socket for m in self.members.values() if m.role == ParticipantRole.SPECIALIST.value and m.socket is not None]
        return sockets + ([self.screen] if self.screen is not None and self.screen_actor is not None else [])

    def _lobby_view(self) -> list[dict[str, Any]]:
        return [w.public() for w in self.lobby.values()]

    async def _lobby_changed(self, arrived: Waiting | None = None) -> None:
        payload = {"type": "lobby", "waiting": self._lobby_view(), "arrived": arrived.public() if arrived else None}
        for socket in self._moderator_sockets():
            await self._send(socket, payload)

    def _admitting_actor(self, sender: str, member: Member) -> Actor:
        if sender == SCREEN:
            if self.screen_actor is None:
                raise RoomRefused("Connectez-vous sur le chariot pour faire entrer quelqu'un.")
            return self.screen_actor
        if member.role != ParticipantRole.SPECIALIST.value:
            raise RoomRefused("Seuls l'équipe soignante et le médecin requis peuvent faire entrer quelqu'un.")
        return Actor(member.name[:60], member.role, None)

    # --- leaving ------------------------------------------------------------------------------

    async def leave(self, member_id: str, socket: web.WebSocketResponse) -> None:
        waiting = self.lobby.get(member_id)
        if waiting is not None and waiting.socket is socket:  # gave up waiting
            del self.lobby[member_id]
            await self._lobby_changed()
            return
        member = self.members.get(member_id)
        if member is None or member.socket is not socket:
            return  # replaced by a newer socket: that one stays
        del self.members[member_id]
        peer = self.peers.pop(member_id, None)
        if peer is not None:
            await peer.close()
        if self.sfu is not None:
            with contextlib.suppress(JanusError):
                await self.sfu.gone(member_id)
        await self._broadcast({"type": "left", "id": member_id}, but=None)

    async def remove(self, member_id: str, text: str) -> None:
        """Out of the room for good (removed by a moderator, invitation revoked)."""
        self.removed.add(member_id)
        waiting = self.lobby.pop(member_id, None)
        if waiting is not None:
            await self._send(waiting.socket, {"type": "removed", "text": text})
            await waiting.socket.close()
            await self._lobby_changed()
        member = self.members.get(member_id)
        if member is None:
            return
        if member.socket is not None:
            await self._send(member.socket, {"type": "removed", "text": text})
            await member.socket.close()
        await self.leave(member_id, member.socket)

    # --- messages -----------------------------------------------------------------------------

    async def handle(self, sender: str, socket: web.WebSocketResponse, raw: str) -> None:
        """One message from `sender` ("screen" for the kiosk); errors go back to it alone."""
        try:
            message = messages.parse(raw)
            await self._dispatch(sender, message)
        except messages.BadMessage as bad:
            await self._send(socket, {"type": "error", "text": bad.text})
        except RoomRefused as refused:
            await self._send(socket, {"type": "error", "text": refused.text})
        except Exception:  # noqa: BLE001 (a fault in one action must not end anyone's call)
            log.exception("room %s: message from %s failed", self.id, sender)
            await self._send(socket, {"type": "error", "text": "Le chariot n'a pas pu faire cette action ; réessayez."})

    async def _dispatch(self, sender: str, message: Any) -> None:  # noqa: C901 (one branch per message type)
        member_id = CART if sender == SCREEN else sender
        member = self.members.get(member_id)
        if member is None and sender in self.lobby:
            if isinstance(message, messages.Ping):
                await self._send(self.lobby[sender].socket, {"type": "pong"})
                return
            raise RoomRefused(WAITING_TEXT)
        if member is None:
            raise RoomRefused("Vous n'êtes plus dans la salle.")
        match message:
            case messages.Signal(to=target, description=description) if self.sfu is not None:
                await self._signal_through_sfu(self.sfu, sender, target, description)
            case messages.Signal(to=target, description=description):
                if target == CART:
                    peer = self.peers.get(sender)
                    if peer is None or description.type != "answer":
                        raise RoomRefused("Le chariot n'attend pas de réponse de votre part.")
                    try:
                        await peer.accept(description.model_dump())
                    except ValueError as exc:
                        raise RoomRefused("Réponse de connexion refusée par le chariot.") from exc
                    return
                socket = self.screen if target == SCREEN else (self.members[target].socket if target in self.members else None)
                if socket is None or target == sender:
                    raise RoomRefused("Ce participant n'est pas dans la salle.")
                await self._send(socket, {"type": "signal", "from": sender, "description": description.model_dump()})
            case messages.Chat(text=text):
                entry = {"type": "chat", "from": member_id, "name": member.name, "text": text.strip(), "at": iso(datetime.now(UTC))}
                self.chat = (self.chat + [entry])[-200:]
                await self._broadcast(entry, but=None)
            case messages.State():
                member.muted, member.video_off = message.muted, message.video_off
                member.sharing, member.audio_only = message.sharing, message.audio_only
                if member_id == CART:
                    self.calls.microphone.muted = message.muted
                    self.calls.hub.set_video_off(message.video_off)
                    for peer_id, peer in self.peers.items():  # « connexion faible » on the cart: for everyone
                        peer.set_video(not self._poor_link(peer_id))
                    if self.sfu is not None:
                        self.sfu.set_cart_still(member.audio_only)
                elif self.sfu is not None:
                    await self.sfu.poor_link(member_id, member.audio_only, list(self.members))
                elif member_id in self.peers:
                    self.peers[member_id].set_video(not self._poor_link(member_id))
                await self._broadcast({"type": "member", "member": member.public()}, but=None)
            case messages.AskUnmute(to=target) | messages.Remove(to=target):
                if member.role not in MODERATORS:
                    raise RoomRefused("Seuls le chariot et le médecin requis peuvent le faire.")
                if target not in self.members or target == member_id:
                    raise RoomRefused("Ce participant n'est pas dans la salle.")
                if isinstance(message, messages.Remove):
                    if target == CART:
                        raise RoomRefused("Le chariot ne peut pas être retiré de la salle.")
                    removed = self.members[target].name
                    await self.remove(target, f"{member.name} vous a retiré de la salle.")
                    await self.calls.audit_room(self, "call.remove", f"{removed} retiré(e) de la salle",
                                                Actor(member.name[:60], member.role, None))
                else:
                    socket = self.screen if target == CART else self.members[target].socket
                    if socket is not None:
                        await self._send(socket, {"type": "unmute_request", "from": member_id, "name": member.name})
            case messages.Admit(to=target):
                await self.admit(target, self._admitting_actor(sender, member))
            case messages.Refuse(to=target):
                await self.refuse(target, self._admitting_actor(sender, member))
            case messages.Snapshot():
                if member.role not in (ParticipantRole.SPECIALIST.value, ParticipantRole.PROFESSIONAL.value, CART):
                    raise RoomRefused("Seul un professionnel de santé peut demander une photo.")
                await self.calls.snapshot(self, requested_by=member.name)
            case messages.Reconnect(to=target):
                if self.sfu is not None:
                    await self.sfu.resubscribe(sender, target or CART)
                elif sender in self.peers:
                    await self.peers[sender].offer()
            case messages.Stats():
                member.stats = message.model_dump(exclude={"type"}, exclude_none=True)
                self.calls.observe_stats(self, member)
                if self.sfu is not None and message.packets_lost is not None and message.packets_received is not None:
                    await self.sfu.report(sender, message.packets_lost, message.packets_received)
            case messages.Ping():
                socket = self.screen if sender == SCREEN else member.socket
                if socket is not None:
                    await self._send(socket, {"type": "pong"})

    # --- room-wide events -----------------------------------------------------------------------

    async def notice(self, text: str) -> None:
        """Something everyone should read (a snapshot taken, a camera lost)."""
        await self._broadcast({"type": "notice", "text": text, "at": iso(datetime.now(UTC))}, but=None)

    async def send_to_roles(self, roles: frozenset[str], payload: dict[str, Any]) -> None:
        """To the members of these roles only (the live vitals: the doctors, not a relative)."""
        for member in list(self.members.values()):
            if member.role in roles and member.socket is not None:
                await self._send(member.socket, payload)

    async def camera_changed(self, state: dict[str, Any]) -> None:
        await self._broadcast({"type": "camera", **state}, but=None)

    async def close(self, text: str) -> None:
        self.closed = True
        for peer in list(self.peers.values()):
            await peer.close()
        self.peers.clear()
        if self._sfu_watch is not None:
            self._sfu_watch.cancel()
        sfu, self.sfu = self.sfu, None
        if sfu is not None:
            await sfu.close()
        for socket in self._sockets():
            await self._send(socket, {"type": "closed", "text": text})
            with contextlib.suppress(Exception):
                await socket.close()
        self.members.clear()
        self.lobby.clear()
        self.screen = None

    # --- through Janus --------------------------------------------------------------------------

    def viewers(self) -> list[str]:
        viewers = [m.id for m in self.remotes() if m.socket is not None]
        return viewers + ([SCREEN] if self.screen is not None else [])

    async def send_to(self, viewer: str, payload: dict[str, Any]) -> None:
        member = self.members.get(viewer)
        socket = self.screen if viewer == SCREEN else (member.socket if member else None)
        if socket is not None:
            await self._send(socket, payload)

    async def _through_sfu(self) -> bool:
        """The room moves to Janus: the cart's peers close, every page is told (`topology`) and
        makes its paths again through Janus. False when Janus does not answer. One move at a
        time: two people let in while Janus answers the first must not open two rooms."""
        async with self._moving:
            if self.sfu is not None:
                return True
            try:
                path = await self.calls.open_sfu(self)
            except JanusError as exc:
                log.warning("room %s: Janus unavailable, the room stays on the mesh: %s", self.id, exc)
                return False
            if self.closed:
                await path.close()
                return False
            await self._moved(path)
            return True

    async def _moved(self, path: SfuPath) -> None:
        self.sfu = path
        for peer in list(self.peers.values()):
            await peer.close()
        self.peers.clear()
        await self._broadcast({"type": "topology", "sfu": True}, but=None)
        if self.cart_in_call:
            await self._publish_cart(path)
        self._sfu_watch = asyncio.get_running_loop().create_task(self._watch_sfu(path))
        log.info("room %s goes through Janus (%d participants)", self.id, len(self.remotes()))

    async def _publish_cart(self, path: SfuPath) -> None:
        cart = self.members[CART]
        try:
            await path.cart_in(still=cart.audio_only)
        except JanusError as exc:
            log.error("room %s: the cart could not publish into Janus: %s", self.id, exc)
            await self.notice("Le chariot n'arrive pas à envoyer son image au serveur de visioconférence ; il réessaie.")
            path.lost.set()  # as if Janus were lost: made again, or the mesh (_watch_sfu)

    async def _signal_through_sfu(self, path: SfuPath, sender: str, target: str, description: messages.Description) -> None:
        try:
            if target == "sfu" and description.type == "offer" and sender != SCREEN:
                answer = await path.publish(sender, description.model_dump())
                await self.send_to(sender, {"type": "signal", "from": "sfu", "description": answer})
            elif description.type == "answer" and (target == CART or target in self.members):
                await path.answer(sender, target, description.model_dump())
            else:
                raise RoomRefused("Le chariot n'attend pas ce message de votre part.")
        except JanusError as exc:
            log.warning("room %s: Janus refused %s's %s to %s: %s", self.id, sender, description.type, target, exc)
            raise RoomRefused("Le serveur de visioconférence n'a pas accepté la connexion ; elle est retentée.") from exc

    async def _watch_sfu(self, path: SfuPath) -> None:
        """Janus lost (restarted, the region's link cut): made again, or back to the mesh when
        it holds who is left; until then the pages keep their sockets and the chat."""
        await path.lost.wait()
        if self.sfu is not path or self.closed:
            return
        log.warning("room %s: the connection to Janus is lost", self.id)
        self.sfu = None
        with contextlib.suppress(Exception):
            await path.close()
        await self.notice("La liaison avec le serveur de visioconférence est coupée : le chariot la rétablit.")
        for delay in SFU_RETRIES:
            await asyncio.sleep(delay)
            if self.closed or self.sfu is not None:
                return
            if await self._through_sfu():
                return
        if len(self.remotes()) <= MESH_LIMIT:
            await self._back_to_mesh()
            return
        await self.notice("Le serveur de visioconférence ne répond toujours pas : l'image et le son reviendront dès qu'il répondra.")
        while not self.closed and self.sfu is None:
            await asyncio.sleep(SFU_RETRIES[-1])
            if await self._through_sfu():
                return

    async def _back_to_mesh(self) -> None:
        log.warning("room %s: back on the direct mesh", self.id)
        await self._broadcast({"type": "topology", "sfu": False, "screen": self.screen is not None}, but=None)
        if self.cart_in_call:
            for member in self.remotes():
                await self._start_peer(member)

    # --- plumbing -----------------------------------------------------------------------------

    def _welcome(self, you: str, name: str, role: str) -> dict[str, Any]:
        return {
            "type": "welcome", "you": {"id": SCREEN if you == CART else you, "member": you, "name": name, "role": role},
            "members": [m.public() for m in self.members.values()], "screen": self.screen is not None,
            "ice_servers": browser_ice_servers(self.calls.config, you, self.credentials_expire),
            "ice_transport_policy": self.calls.config.ice_transport_policy,
            "closes_at": iso(self.window.closes_at), "chat": self.chat, "camera": self.calls.hub.state(),
            "dossier": self.dossier_id is not None, "sfu": self.sfu is not None,
            "lobby": self._lobby_view() if self._moderates(you, role) else None,
        }

    def _moderates(self, you: str, role: str) -> bool:
        return role == ParticipantRole.SPECIALIST.value or (you == CART and self.screen_actor is not None)

    def _poor_link(self, member_id: str) -> bool:
        """« Connexion faible » chosen by this participant or on the cart: the cart's camera goes to
        them as a still picture every few seconds, with the sound."""
        cart = self.members.get(CART)
        return self.members[member_id].audio_only or (cart is not None and cart.audio_only)

    async def _start_peer(self, member: Member) -> None:
        if member.socket is None or not member.takes_cart_media:
            return
        socket = member.socket
        peer = CartPeer(member.id, self.calls.hub, self.calls.microphone, self.calls.config,
                        lambda payload: self._send(socket, payload), self._peer_failed, self.credentials_expire, self.calls.shared_video)
        peer.video_enabled = not self._poor_link(member.id)
        self.peers[member.id] = peer
        try:
            await peer.offer()
        except Exception:  # noqa: BLE001 (one participant's media must not end the room)
            log.exception("cart peer for %s could not start", member.id)
            await self._send(socket, {"type": "error", "text": "Le chariot n'arrive pas à vous envoyer son image ; il réessaie."})
            self._peer_failed(member.id)

    def _peer_failed(self, member_id: str) -> None:
        """The path to a participant broke (network drop): a new connection, nobody touching anything."""
        peer = self.peers.get(member_id)
        if peer is not None:
            asyncio.get_running_loop().create_task(peer.offer())

    @property
    def credentials_expire(self) -> int:
        """TURN credentials made for this room last until an hour after it closes."""
        return int(self.window.closes_at.timestamp()) + 3600

    def _sockets(self) -> list[web.WebSocketResponse]:
        sockets = [m.socket for m in self.members.values() if m.socket is not None] + [w.socket for w in self.lobby.values()]
        return sockets + ([self.screen] if self.screen is not None else [])

    async def _broadcast(self, payload: dict[str, Any], but: str | None) -> None:
        for member in list(self.members.values()):
            if member.id != but and member.socket is not None:
                await self._send(member.socket, payload)
        if self.screen is not None and but != CART:
            await self._send(self.screen, payload)

    @staticmethod
    async def _send(socket: web.WebSocketResponse, payload: dict[str, Any]) -> None:
        if socket.closed:
            return
        try:
            await socket.send_str(json.dumps(payload, ensure_ascii=False))
        except (ConnectionError, RuntimeError):  # the other side went away mid-send: its leave() follows
            log.debug("send to a closing socket dropped")



def _described(waiting: Waiting) -> str:
    """"Marie DURAND (lien de Paul LEFEBVRE, proche)": who they said they are, and whose link."""
    role = ROLE_LABELS[ParticipantRole(waiting.role)].lower()
    return f"{waiting.name} (lien de {waiting.invited_as}, {role})" if waiting.invited_as else f"{waiting.name} (lien d'{role})"


def _in_words(count: int) -> str:
    words = ("un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze")
    return words[count - 1] if 0 < count <= len(words) else str(count)
