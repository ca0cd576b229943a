"""The simulated specialist of the practice mode: when the cart enters a practice dossier's call,
the doctor invited to it joins a few seconds later, played by the agent itself. It is a member of
the room like a browser would be (its end of the signalling is in-process, `BotLine`), offers its
picture and voice to the kiosk's screen, says what to do next (aloud and in the chat), and files a
prescription in the dossier after `[practice] prescription_after_seconds`.

It takes no media from the cart: nobody watches them, and a 2-core cart has better things to
encode."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription
from PIL import Image, ImageDraw
from sqlite_utils import Database

from agent.audit import Actor
from agent.call.cart_peer import rtc_configuration
from agent.call.room import SCREEN, LiveRoom, member_of
from agent.config import CallConfig
from agent.dossiers import prescription
from agent.dossiers.prescription_filing import file_prescription
from agent.links.invitation import ParticipantRole, Settings
from agent.practice.bot_media import Portrait, PortraitTrack, Voice, VoiceTrack, font, speech
from agent.report.prescription import Medicine
from agent.store import Store
from agent.store.blobs import BlobStore

log = logging.getLogger("agent.practice")

JOIN_AFTER = 3.0  # seconds after the cart enters: the doctor "arrives"
ENDED = {"closed", "removed", "refused", "ended"}
MEDICINES = [Medicine(name="Paracétamol 500 mg, comprimé", dosage="1 comprimé 3 fois par jour si douleur", duration="5 jours")]
NOTES = "ENTRAÎNEMENT — ordonnance fictive, sans valeur, écrite par le médecin simulé."


def specialist_of_room(db: Database, room_id: str) -> dict[str, Any] | None:
    """The specialist whose live invitation opens this room, as `prescription.specialist_of` gives them."""
    row = db.execute("""SELECT i.id FROM invitations i JOIN participants p ON p.id = i.participant_id
                        WHERE i.room_id = ? AND p.role = ? AND i.revoked_at IS NULL ORDER BY i.created_at DESC LIMIT 1""",
                     [room_id, ParticipantRole.SPECIALIST.value]).fetchone()
    return prescription.specialist_of(db, row[0]) if row else None


def script(name: str, prescription_after: float) -> list[tuple[float, str | None]]:
    """What the doctor says and when (seconds after joining); None: the prescription is filed then."""
    steps: list[tuple[float, str | None]] = [
        (2, f"Bonjour, je suis {name}, un médecin simulé pour votre entraînement. Je vous vois et je vous entends. "
            "Présentez-moi le résident, puis prenez ses constantes avec les capteurs du chariot."),
        (25, "Si le chariot a une caméra d'examen, montrez-moi la lésion de plus près. "
             "Vous pouvez aussi prendre une photo : elle sera versée au télédossier."),
        (prescription_after, None),
        (prescription_after + 1, "Je vous ai envoyé une ordonnance : elle est dans le télédossier, rubrique Documents. "
                                 "Vous pourrez l'imprimer après l'appel."),
        (prescription_after + 12, "Vous pouvez maintenant terminer la téléconsultation. Merci, et au revoir."),
    ]
    return sorted(steps, key=lambda step: step[0])


def signature_image(name: str) -> bytes:
    """A handwritten-looking signature for the fictitious prescription."""
    img = Image.new("RGBA", (360, 120), (255, 255, 255, 0))
    draw = ImageDraw.Draw(img)
    draw.text((16, 24), name, font=font(34), fill=(20, 40, 120, 255))
    draw.line([(10, 90), (120, 70), (230, 96), (340, 66)], fill=(20, 40, 120, 255), width=3)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


class BotLine:
    """The simulated doctor's end of the room's signalling: what a browser's WebSocket is to a real
    participant (LiveRoom sends to it and closes it), in-process."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.closed = False

    async def send_str(self, text: str) -> None:
        if not self.closed:
            self.inbox.put_nowait(json.loads(text))

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.inbox.put_nowait(None)


class SimulatedSpecialist:
    """Given what it acts on: the practice store and blobs (the prescription), the dossiers'
    settings, the call's settings (ICE) and the prescription's delay."""

    def __init__(self, store: Store, blobs: BlobStore, settings: Settings, call: CallConfig, prescription_after: float,
                 speak: Callable[[str], bytes | None] = speech) -> None:
        self._store, self._blobs, self._settings, self._call = store, blobs, settings, call
        self._prescription_after = prescription_after
        self._speak = speak
        self._playing: dict[str, asyncio.Task[None]] = {}

    def cart_entered(self, live: LiveRoom) -> None:
        """Calls' hook: the cart is in a practice room; its doctor comes (once per room at a time)."""
        if live.dossier_id is None or (live.id in self._playing and not self._playing[live.id].done()):
            return
        self._playing[live.id] = asyncio.get_running_loop().create_task(self._play(live))

    async def close(self) -> None:
        for task in self._playing.values():
            task.cancel()
        for task in self._playing.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._playing.clear()

    async def _play(self, live: LiveRoom) -> None:
        await asyncio.sleep(JOIN_AFTER)
        who = await self._store.read(specialist_of_room, live.id)
        if who is None or not live.cart_in_call:
            return
        name = prescription.prescriber_name(who)
        member_id = member_of(who["id"])
        portrait = await asyncio.get_running_loop().run_in_executor(None, Portrait, name)
        if member_id in live.members or not live.cart_in_call:  # the nurse opened the doctor's link herself, or left
            return
        line = BotLine()
        media = _Media(portrait, Voice(), self._call, live.credentials_expire, lambda m: live.handle(member_id, line, json.dumps(m)))
        await live.join(member_id, name, ParticipantRole.SPECIALIST.value, line, takes_cart_media=False)  # type: ignore[arg-type]
        log.info("practice: the simulated specialist joined room %s", live.id)
        acts = asyncio.get_running_loop().create_task(self._act(live, who, name, member_id, line, media))
        try:
            await self._follow(line, media)
        finally:
            acts.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await acts
            await media.close()
            await live.leave(member_id, line)  # type: ignore[arg-type]

    async def _follow(self, line: BotLine, media: _Media) -> None:
        """The room's messages, as a browser's mesh.js follows them, until the room ends it."""
        while (message := await line.inbox.get()) is not None:
            kind = message.get("type")
            if kind == "welcome" and message.get("screen") or kind == "endpoint" and message.get("id") == SCREEN:
                await media.offer()
            elif kind == "signal" and message.get("from") == SCREEN and message["description"]["type"] == "answer":
                await media.answered(message["description"])
            elif kind == "left" and message.get("id") == "cart":
                await media.close()
            elif kind in ENDED:
                return

    async def _act(self, live: LiveRoom, who: dict[str, Any], name: str, member_id: str, line: BotLine, media: _Media) -> None:
        loop, started = asyncio.get_running_loop(), asyncio.get_running_loop().time()
        for at, text in script(name, self._prescription_after):
            await asyncio.sleep(max(0.0, started + at - loop.time()))
            if text is None:
                await self._prescribe(live, who, name)
                continue
            await live.handle(member_id, line, json.dumps({"type": "chat", "text": text}))  # type: ignore[arg-type]
            pcm = await loop.run_in_executor(None, self._speak, text)
            if pcm:
                media.voice.say(pcm)

    async def _prescribe(self, live: LiveRoom, who: dict[str, Any], name: str) -> None:
        assert live.dossier_id is not None
        actor = Actor(f"{name} (simulé)"[:60], ParticipantRole.SPECIALIST.value, None)
        signature = await asyncio.get_running_loop().run_in_executor(None, signature_image, name)
        try:
            await file_prescription(self._store, self._blobs, self._settings, live.dossier_id, who, MEDICINES, NOTES, signature, actor, name)
        except Exception:  # a dossier signed meanwhile: the practice goes on without it
            log.exception("practice: the simulated prescription could not be filed")


Send = Callable[[dict[str, Any]], Awaitable[None]]


class _Media:
    """The doctor's connection to the kiosk's screen: offered by the doctor, as a participant's
    browser does; replaced whole when the screen comes back."""

    def __init__(self, portrait: Portrait, voice: Voice, call: CallConfig, expires: int, send: Send) -> None:
        self.portrait, self.voice = portrait, voice
        self._call, self._expires, self._send = call, expires, send
        self._pc: RTCPeerConnection | None = None

    async def offer(self) -> None:
        await self.close()
        pc = self._pc = RTCPeerConnection(rtc_configuration(self._call, self._expires))
        pc.addTransceiver(VoiceTrack(self.voice), direction="sendonly")
        pc.addTransceiver(PortraitTrack(self.portrait, self.voice), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers every candidate first
        await self._send({"type": "signal", "to": SCREEN, "description": {"type": "offer", "sdp": pc.localDescription.sdp}})

    async def answered(self, description: dict[str, str]) -> None:
        if self._pc is not None and self._pc.signalingState == "have-local-offer":
            await self._pc.setRemoteDescription(RTCSessionDescription(sdp=description["sdp"], type=description["type"]))

    async def close(self) -> None:
        pc, self._pc = self._pc, None
        if pc is not None:
            await pc.close()
