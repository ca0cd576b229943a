"""The cart in the call: enter and leave a dossier's room, the cameras and their preview, the
snapshot, and the technician's statistics. The WebSockets are in agent/api/room_socket.py."""

from __future__ import annotations

import asyncio

from aiohttp import web
from pydantic import BaseModel, Field

from agent.access.roles import Permission
from agent.api.context import agent_of
from agent.api.errors import ApiError
from agent.api.room_socket import unattended_screen
from agent.api.routes import API
from agent.api.routing import PUBLIC, SESSION, Call
from agent.api.schemas import DocumentOut
from agent.call.calls import CallRefused
from agent.call.room import RoomRefused
from agent.clock import iso, parse_iso
from agent.links.invitation import Window
from agent.media.cameras import preview_jpeg


class CameraOut(BaseModel):
    id: str
    label: str
    available: bool
    simulated: bool


class CamerasOut(BaseModel):
    active: str
    cameras: list[CameraOut]
    notice: str | None
    video_off: bool


class CameraChoice(BaseModel):
    camera: str = Field(pattern="^(room|exam)$")


class CallOut(BaseModel):
    in_call: bool
    room: str | None = None
    dossier_id: str | None = None
    closes_at: str | None = None
    members: int = 0
    camera: CamerasOut


def _room_of(db, dossier_id: str):  # noqa: ANN001, ANN202 (store thread)
    rows = list(db.query("SELECT id, opens_at, closes_at FROM rooms WHERE dossier_id = ?", [dossier_id]))
    if not rows:
        exists = db.execute("SELECT 1 FROM dossiers WHERE id = ?", [dossier_id]).fetchone()
        raise ApiError("not_found" if not exists else "no_room")
    row = rows[0]
    return row["id"], Window(parse_iso(row["opens_at"]), parse_iso(row["closes_at"]))


def _call_out(call: Call) -> CallOut:
    calls = agent_of(call.request).calls
    live = calls.cart_room
    camera = CamerasOut(**calls.hub.state())
    if live is None:
        return CallOut(in_call=False, camera=camera)
    return CallOut(in_call=True, room=live.id, dossier_id=live.dossier_id, closes_at=iso(live.window.closes_at),
                   members=len(live.members), camera=camera)


@API.route("POST", "/dossiers/{id}/call", summary="Entrer en salle : le chariot rejoint la téléconsultation du télédossier",
           tags=("appel",), access=Permission.HEALTH_WRITE, response=CallOut, errors=(409,))
async def enter_call(call: Call) -> CallOut:
    agent = agent_of(call.request)
    dossier_id = call.request.match_info["id"]
    room_id, window = await agent.store.read(_room_of, dossier_id)
    await agent.calls.enter(room_id, dossier_id, window, call.actor)
    return _call_out(call)


@API.route("DELETE", "/dossiers/{id}/call", summary="Quitter la salle : le télédossier attend le compte rendu",
           tags=("appel",), access=Permission.HEALTH_WRITE, response=CallOut, errors=(409,))
async def leave_call(call: Call) -> CallOut:
    agent = agent_of(call.request)
    room_id, _ = await agent.store.read(_room_of, call.request.match_info["id"])
    await agent.calls.leave(room_id, call.actor)
    return _call_out(call)


def _visio_room(db, room_id: str):  # noqa: ANN001, ANN202 (store thread)
    rows = list(db.query("SELECT opens_at, closes_at FROM rooms WHERE id = ? AND dossier_id IS NULL", [room_id]))
    if not rows:
        raise ApiError("not_found")
    return room_id, Window(parse_iso(rows[0]["opens_at"]), parse_iso(rows[0]["closes_at"]))


@API.route("POST", "/visio/{room}/call", summary="Entrer dans la salle d'une Visio SMS (sans télédossier)", tags=("appel",),
           access=Permission.HEALTH_WRITE, response=CallOut, errors=(409,))
async def enter_visio(call: Call) -> CallOut:
    agent = agent_of(call.request)
    room_id, window = await agent.store.read(_visio_room, call.request.match_info["room"])
    await agent.calls.enter(room_id, None, window, call.actor)
    return _call_out(call)


@API.route("DELETE", "/visio/{room}/call", summary="Quitter la salle d'une Visio SMS", tags=("appel",),
           access=Permission.HEALTH_WRITE, response=CallOut, errors=(409,))
async def leave_visio(call: Call) -> CallOut:
    agent = agent_of(call.request)
    room_id, _ = await agent.store.read(_visio_room, call.request.match_info["room"])
    await agent.calls.leave(room_id, call.actor)
    return _call_out(call)


@API.route("GET", "/call", summary="L'appel en cours du chariot, s'il y en a un (sans donnée de santé)", tags=("appel",),
           access=SESSION, response=CallOut, allow_locked=True)
async def current_call(call: Call) -> CallOut:
    return _call_out(call)


class UnattendedOut(BaseModel):
    in_call: bool = Field(description="The cart answered a call by itself and its screen may show it")


@API.route("GET", "/call/unattended", summary="Le chariot a-t-il décroché seul ? (écran du chariot sans personne connectée)",
           tags=("appel",), access=PUBLIC, response=UnattendedOut)
async def unattended_call(call: Call) -> UnattendedOut:
    agent = agent_of(call.request)
    return UnattendedOut(in_call=unattended_screen(call.request) and agent.calls.cart_room is not None)


@API.route("POST", "/call/snapshot", summary="Photo en pleine résolution de la caméra active, ajoutée au télédossier de l'appel",
           tags=("appel",), access=Permission.HEALTH_WRITE, response=DocumentOut, status=201, errors=(409,))
async def snapshot(call: Call) -> DocumentOut:
    calls = agent_of(call.request).calls
    if calls.cart_room is None:
        raise CallRefused("not_in_call")
    try:
        added = await calls.snapshot(calls.cart_room, requested_by="l'équipe soignante", actor=call.actor)
    except RoomRefused as refused:
        raise ApiError("snapshot_failed", reason=refused.text) from refused
    return DocumentOut(**added)


@API.route("GET", "/call/stats", summary="Statistiques de l'appel (débit, images par seconde, définition, pertes, aller-retour, codec)",
           tags=("appel",), access=Permission.DEVICES_MANAGE)
async def call_stats(call: Call) -> dict:
    return await agent_of(call.request).calls.stats()


@API.route("GET", "/cameras", summary="Les caméras du chariot et la caméra active", tags=("appel",), access=SESSION, response=CamerasOut)
async def cameras(call: Call) -> CamerasOut:
    return CamerasOut(**agent_of(call.request).calls.hub.state())


@API.route("PUT", "/cameras/active", summary="Changer de caméra (salle ou examen), en appel ou non", tags=("appel",),
           access=Permission.HEALTH_WRITE, body=CameraChoice, response=CamerasOut, errors=(409,))
async def switch_camera(call: Call) -> CamerasOut:
    hub = agent_of(call.request).calls.hub
    try:
        hub.switch(call.body.camera)
    except KeyError as exc:
        raise ApiError("camera_unavailable") from exc
    return CamerasOut(**hub.state())


_BOUNDARY = "telecart-preview"


@API.route("GET", "/cameras/preview", summary="Aperçu local de la caméra active (flux MJPEG pour une balise <img>)",
           tags=("appel",), access=Permission.HEALTH_READ, content_type=f"multipart/x-mixed-replace; boundary={_BOUNDARY}")
async def preview(call: Call) -> web.StreamResponse:
    """Small JPEGs of the newest frame at the preview's rate: the nurse aims the otoscope with it.
    A slow screen gets fewer frames, never older ones (each write waits for the previous)."""
    agent = agent_of(call.request)
    hub, media = agent.calls.hub, agent.config.media
    response = web.StreamResponse(headers={"Content-Type": f"multipart/x-mixed-replace; boundary={_BOUNDARY}",
                                           "Cache-Control": "no-store"})
    await response.prepare(call.request)
    loop = asyncio.get_running_loop()
    period = 1.0 / media.preview_fps
    seq = 0
    async with hub.watching():
        while True:
            started = loop.time()
            captured = await hub.slot.next_after(seq, 2.0)
            if captured is None:
                continue
            seq = captured.seq
            jpeg = await loop.run_in_executor(None, preview_jpeg, captured, media.preview_width)
            try:
                await response.write(f"--{_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
                                     + jpeg + b"\r\n")
            except (ConnectionError, RuntimeError):
                break
            await asyncio.sleep(max(0.0, period - (loop.time() - started)))
    return response

