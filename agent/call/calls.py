"""The calls of the cart: its rooms while they are live, the one the cart is in, and what the
cart does in them (enter, leave, snapshots, auto-answer), with the dossier's state and the audit
trail kept in step.

The rooms and the media stack they bring (aiortc, PyAV, numpy: most of the agent's memory) are
imported when a call first needs them, in a worker thread (`Calls.load_media`): when the cart
enters a room, when a participant's link page opens or their socket comes. An agent nobody calls
never loads them (docs/architecture.md, "What loads when")."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from agent import audit
from agent.audit import Actor
from agent.call.vitals_relay import VitalsRelay
from agent.clock import clock_time
from agent.config import CallConfig
from agent.devices import Devices
from agent.dossiers.dossier import DossierRefused, DossierState, transition
from agent.dossiers.intake.receive import receive
from agent.links.invitation import Settings, Window, signing_key
from agent.metrics import Metrics
from agent.refusal import Refused
from agent.store import Store
from agent.store.blobs import BlobStore

if TYPE_CHECKING:
    from agent.call.room import LiveRoom, Member
    from agent.call.sfu_path import SfuPath
    from agent.media.shared_video import SharedVideo

log = logging.getLogger("agent.call")
# A camera just switched to, on a loaded cart, may take seconds to give its first fresh frame; the
# person asked for a photo and waits for it (the call's CI test once saw 3 s pass without one).
SNAPSHOT_WAIT = 10.0

AUTO_ANSWER = Actor("chariot", "cart", None)


class CallRefused(Refused):
    """The cart cannot enter or act in a call now (codes in agent/api/errors.py)."""


def _load_media() -> None:
    """The live room and, through it, the cart's peer: aiortc, PyAV, numpy, the camera's encoder
    and tracks; and what the capture threads import when they start, so the first frame and the
    first sound wait for nothing more than before (run in a worker thread by `Calls.load_media`)."""
    import agent.call.room  # noqa: F401
    import drivers.audio.device  # noqa: F401
    import drivers.audio.simulator  # noqa: F401
    import drivers.camera.simulator  # noqa: F401


def _state_of(db: Database, dossier_id: str) -> DossierState | None:
    row = db.execute("SELECT state FROM dossiers WHERE id = ?", [dossier_id]).fetchone()
    return DossierState(row[0]) if row else None


def _call_started(db: Database, dossier_id: str, actor: Actor) -> None:
    state = _state_of(db, dossier_id)
    if state is DossierState.CANCELLED:  # its links are revoked: nobody would come
        raise DossierRefused("dossier_cancelled")
    if state in (DossierState.SCHEDULED, DossierState.AWAITING_REPORT):
        transition(db, dossier_id, DossierState.IN_PROGRESS, actor)


def _call_ended(db: Database, dossier_id: str, actor: Actor) -> None:
    if _state_of(db, dossier_id) is DossierState.IN_PROGRESS:
        transition(db, dossier_id, DossierState.AWAITING_REPORT, actor)


class Calls:
    """Given only what the calls use: the call's settings, the store and blobs (the dossier's state,
    snapshots, the audit trail), the metrics, the dossiers' settings (establishment, time zone)
    and the cart's devices, which the call borrows (agent/devices/)."""

    def __init__(self, config: CallConfig, store: Store, blobs: BlobStore, metrics: Metrics, settings: Settings,
                 devices: Devices) -> None:
        self.config = config
        self._store, self._blobs, self._metrics, self._settings = store, blobs, metrics, settings
        self.hub = devices.cameras
        self.microphone = devices.microphone
        self._shared_video: SharedVideo | None = None
        self._media: asyncio.Future[None] | None = None
        self.vitals = VitalsRelay(devices.sensors)
        self.rooms: dict[str, LiveRoom] = {}
        self.cart_room: LiveRoom | None = None
        self._closers: dict[str, asyncio.TimerHandle] = {}
        self._unsubscribe = self.hub.subscribe(self._camera_changed)
        # Told when the cart has entered a room (the practice mode's simulated doctor then comes).
        self.on_cart_entered: Callable[[LiveRoom], None] | None = None

    @property
    def cart_name(self) -> str:
        return f"Chariot — {self._settings.establishment}"

    @property
    def shared_video(self) -> SharedVideo | None:
        """VP8 is encoded once for every participant (its encoder made with the first one's peer);
        H.264 (old iPhones) by each participant's sender."""
        if self._shared_video is None and self.config.video_codec == "VP8":
            from agent.media.shared_video import SharedVideo

            self._shared_video = SharedVideo(self.hub)
        return self._shared_video

    def load_media(self) -> asyncio.Future[None]:
        """The media stack imported once, in a worker thread, so the event loop goes on serving
        while it loads (tenths of a second on a cart). Awaited before a room is made; started
        without waiting when a participant's page opens, so their connection finds it ready."""
        if self._media is None:
            self._media = asyncio.get_running_loop().run_in_executor(None, _load_media)
            self._media.add_done_callback(self._media_loaded)
        return self._media

    def _media_loaded(self, loading: asyncio.Future[None]) -> None:
        if loading.cancelled() or loading.exception() is not None:
            log.error("the call's media stack did not load: %r", None if loading.cancelled() else loading.exception())
            self._media = None  # tried again by the next call

    async def open_sfu(self, live: LiveRoom) -> SfuPath:
        """The room's VideoRoom on the region's Janus, made or found again: its PIN and secret
        derived from the cart's own key, so that the cart, restarted, finds its room again."""
        from agent.call.cart_peer import rtc_configuration
        from agent.call.janus import JanusRoom
        from agent.call.sfu_path import SfuPath

        shared = self.shared_video
        assert shared is not None, "Janus rooms are VP8: the room checks the codec first"
        key = await self._store.write(signing_key)
        pin, secret = (hmac.new(key, f"janus-{what}:{live.id}".encode(), hashlib.sha256).hexdigest()[:32] for what in ("pin", "secret"))
        janus = JanusRoom(self.config.sfu_url, live.id, shared, self.microphone, pin=pin, secret=secret,
                          admin_key=self.config.sfu_admin_key, rtc=rtc_configuration(self.config, live.credentials_expire),
                          description=f"Telecart {self._settings.establishment}")
        path = SfuPath(janus, live.send_to, live.viewers)
        try:
            await path.open()
        except BaseException:
            await janus.close(destroy=False)
            raise
        return path

    def room(self, room_id: str, dossier_id: str | None, window: Window) -> LiveRoom:
        """The live room, made when its first person arrives; it closes with its window. The
        callers await `load_media` first (otherwise the import happens here, on the loop)."""
        from agent.call.room import LiveRoom

        live = self.rooms.get(room_id)
        if live is None:
            live = self.rooms[room_id] = LiveRoom(self, room_id, dossier_id, window)
            delay = (window.closes_at - datetime.now(UTC)).total_seconds()
            loop = asyncio.get_running_loop()
            self._closers[room_id] = loop.call_later(max(0.0, delay), lambda: loop.create_task(self._window_closed(room_id)))
        return live

    # --- the cart enters and leaves -----------------------------------------------------------

    async def enter(self, room_id: str, dossier_id: str | None, window: Window, actor: Actor) -> LiveRoom:
        now = datetime.now(UTC)
        if not window.contains(now):
            zone = self._settings.zone
            if now < window.opens_at:
                raise CallRefused("room_not_open", opens=clock_time(window.opens_at, zone))
            raise CallRefused("room_closed")
        if self.cart_room is not None and self.cart_room.id != room_id:
            raise CallRefused("cart_busy")
        await asyncio.shield(self.load_media())
        live = self.room(room_id, dossier_id, window)
        if dossier_id:
            await self._store.write(_call_started, dossier_id, actor)
        await self.audit_room(live, "call.enter", "le chariot entre en salle", actor)
        self.cart_room = live
        self.vitals.follow(live)
        await live.cart_enters(self.cart_name)
        self._count()
        if self.on_cart_entered is not None:
            self.on_cart_entered(live)
        return live

    async def leave(self, room_id: str, actor: Actor, *, ended: bool = False) -> None:
        """The cart leaves the room. Leaving is not ending (the nurse may come back while the room
        is open): the dossier waits for its report only when `ended` (the room's window closed) or
        when the nurse validates « Fin de téléconsultation » (agent/dossiers/consultation_end.py)."""
        live = self.rooms.get(room_id)
        if live is None or self.cart_room is not live:
            raise CallRefused("not_in_call")
        await live.cart_leaves()
        self.cart_room = None
        self.vitals.follow(None)
        self.microphone.muted = False
        self.hub.set_video_off(False)
        if live.dossier_id and ended:
            await self._store.write(_call_ended, live.dossier_id, actor)
        await self.audit_room(live, "call.leave", "le chariot quitte la salle", actor)
        self._count()

    async def member_joined(self, live: LiveRoom, member: Member) -> None:
        self._count()
        if self.config.auto_answer and self.cart_room is None:
            log.info("auto-answer: the cart enters room %s", live.id)
            try:
                await self.enter(live.id, live.dossier_id, live.window, AUTO_ANSWER)
            except CallRefused as refused:
                log.warning("auto-answer refused: %s", refused.code)

    async def revoked(self, room_id: str, participant_id: int) -> None:
        live = self.rooms.get(room_id)
        if live is not None:
            from agent.call.room import member_of

            await live.remove(member_of(participant_id), "L'établissement a annulé votre invitation : vous avez quitté la salle.")

    async def consultation_ended(self, dossier_id: str) -> None:
        """The nurse validated « Fin de téléconsultation »: whoever is still in the room is told."""
        for live in self.rooms.values():
            if live.dossier_id == dossier_id and live.remotes():
                await live.notice("L'équipe soignante a terminé la téléconsultation. Le médecin requis peut rédiger et signer "
                                  "son avis depuis le télédossier.")

    def reinvited(self, room_id: str, participant_id: int) -> None:
        """Invited again after a revocation: their new link enters a live room again."""
        live = self.rooms.get(room_id)
        if live is not None:
            from agent.call.room import member_of

            live.removed.discard(member_of(participant_id))

    def member_left(self, member_id: str, role: str) -> None:
        self._metrics.forget_call(member_id, role)
        self._count()

    # --- in the call --------------------------------------------------------------------------

    async def snapshot(self, live: LiveRoom, requested_by: str, actor: Actor | None = None) -> dict[str, Any]:
        """A full-resolution still of the active camera, saved as a photo of the room's dossier."""
        from agent.call.room import RoomRefused

        if live.dossier_id is None:
            raise RoomRefused("Pas de télédossier pour cette visio : la photo ne peut pas être enregistrée.")
        loop = asyncio.get_running_loop()
        started = loop.time()
        shot = await self.hub.snapshot(timeout=SNAPSHOT_WAIT)
        if shot is None:
            log.warning("snapshot refused: no fresh frame of the %s within %.0f s", self.hub.active_label, SNAPSHOT_WAIT)
            raise RoomRefused("La caméra ne donne pas d'image : photo impossible.")
        taken = loop.time()
        zone = self._settings.zone
        stem = f"Photo {shot.camera_label.lower()} {clock_time(datetime.now(UTC), zone).replace(' ', '')}"
        who = actor or Actor(requested_by[:60], "participant", None)
        added = await receive(self._store, self._blobs, live.dossier_id, shot.jpeg, stem, "photo", who, max_bytes=len(shot.jpeg))
        if loop.time() - started > 2:  # a slow disk or a camera slow to give a frame: worth a line
            log.warning("snapshot took %.1f s (frame %.1f s, saving %.1f s)", loop.time() - started, taken - started, loop.time() - taken)
        await live.notice(f"Photo ajoutée au dossier ({shot.width} × {shot.height}), demandée par {requested_by}.")
        return added

    def observe_stats(self, live: LiveRoom, member: Member) -> None:
        self._metrics.observe_call(member.id, member.role, member.stats)

    async def audit_room(self, live: LiveRoom, action: str, detail: str, actor: Actor | None = None) -> None:
        who = actor or AUTO_ANSWER

        def write(db: Database) -> None:
            patient = None
            if live.dossier_id:
                row = db.execute("SELECT patient_id FROM dossiers WHERE id = ?", [live.dossier_id]).fetchone()
                patient = row[0] if row else None
            audit.append(db, who.event(action, patient, detail=f"salle {live.id} : {detail}"))

        await self._store.write(write, essential=True)

    def presence(self) -> list[dict[str, Any]]:
        """Who is in each live room and who waits in its lobby: names as invitations give them,
        nothing of a resident (the activity view shows « Dr X vous attend en salle »)."""
        return [{"room": live.id, "dossier_id": live.dossier_id, "cart_in_call": live.cart_in_call,
                 "present": [{"id": m.id, "name": m.name, "role": m.role} for m in live.remotes()],
                 "waiting": [{"id": w.id, "name": w.name, "role": w.role} for w in live.lobby.values()]}
                for live in self.rooms.values() if live.members or live.lobby]

    async def stats(self) -> dict[str, Any]:
        """The technician's view: each participant's path as the cart sends and as they receive."""
        live = self.cart_room
        if live is None:
            return {"in_call": False, "participants": [], "camera": self.hub.state()}
        rows = []
        for member in live.remotes():
            peer = live.peers.get(member.id)
            rows.append({"id": member.id, "name": member.name, "role": member.role, "received": member.stats,
                         "sent": await peer.stats() if peer else None,
                         "janus_picture": live.sfu.picture_of(member.id) if live.sfu is not None else None})
        through_janus = await live.sfu.janus.sending() if live.sfu is not None else None
        return {"in_call": True, "room": live.id, "participants": rows, "camera": self.hub.state(), "janus": through_janus}

    # --- housekeeping -------------------------------------------------------------------------

    def _camera_changed(self) -> None:
        for live in list(self.rooms.values()):
            asyncio.get_running_loop().create_task(live.camera_changed(self.hub.state()))

    async def _window_closed(self, room_id: str) -> None:
        self._closers.pop(room_id, None)
        live = self.rooms.get(room_id)
        if live is None:
            return
        if self.cart_room is live:
            await self.leave(room_id, AUTO_ANSWER, ended=True)
        del self.rooms[room_id]
        await live.close("La salle est fermée : le créneau de la téléconsultation est terminé.")
        self._count()

    def _count(self) -> None:
        live = self.cart_room
        self._metrics.call_members.set(len(live.members) if live else 0)

    async def close(self) -> None:
        self._unsubscribe()  # the practice mode's calls end before the devices they borrowed
        await self.vitals.close()
        for handle in self._closers.values():
            handle.cancel()
        for live in list(self.rooms.values()):
            await live.close("Le chariot redémarre : rouvrez votre lien dans une minute.")
        self.rooms.clear()
        self.cart_room = None

