"""The cart in the call: enter and leave a dossier's room, the cameras and their preview, the
snapshot (into the call's dossier, or handed to the kiosk unsaved for a téléexpertise being
written), and the technician's statistics. The WebSockets are in agent/api/room_socket.py."""

from __future__ import annotations

import asyncio

from aiohttp import web

from agent.access.roles import Permission
from agent.api import open_streams
from agent.api.context import services_of
from agent.api.errors import ApiError
from agent.api.guard import unattended_screen
from agent.api.registry import API
from agent.api.responses import NO_STORE
from agent.api.routing import PUBLIC, SESSION, Call
from agent.api.schemas.call import CallOut, CallStatsOut, CameraChoice, CamerasOut, UnattendedOut
from agent.api.schemas.documents import DocumentOut
from agent.call.calls import SNAPSHOT_WAIT, CallRefused
from agent.clock import iso
from agent.devices.cameras import preview_jpeg
from agent.links import invitation


def _call_out(call: Call) -> CallOut:
    calls = services_of(call.request).calls
    live = calls.cart_room
    camera = CamerasOut(**calls.hub.state())
    if live is None:
        return CallOut(in_call=False, camera=camera)
    return CallOut(in_call=True, room=live.id, dossier_id=live.dossier_id, closes_at=iso(live.window.closes_at),
                   members=len(live.members), camera=camera)


@API.route("POST", "/dossiers/{id}/call", summary="Entrer en salle : le chariot rejoint la téléconsultation du télédossier",
           tags=("appel",), access=Permission.HEALTH_WRITE, response=CallOut, errors=(409,))
async def enter_call(call: Call) -> CallOut:
    services = services_of(call.request)
    dossier_id = call.request.match_info["id"]
    room_id, window = await services.store.read(invitation.room_of_dossier, dossier_id)
    await services.calls.enter(room_id, dossier_id, window, call.actor)
    return _call_out(call)


@API.route("DELETE", "/dossiers/{id}/call", summary="Quitter la salle (on peut y revenir) : la téléconsultation ne se termine qu'avec « Fin de téléconsultation »",
           tags=("appel",), access=Permission.HEALTH_WRITE, response=CallOut, errors=(409,))
async def leave_call(call: Call) -> CallOut:
    services = services_of(call.request)
    room_id, _ = await services.store.read(invitation.room_of_dossier, call.request.match_info["id"])
    await services.calls.leave(room_id, call.actor)
    return _call_out(call)


@API.route("POST", "/visio/{room}/call", summary="Entrer dans la salle d'une Visio SMS (sans télédossier)", tags=("appel",),
           access=Permission.HEALTH_WRITE, response=CallOut, errors=(409,))
async def enter_visio(call: Call) -> CallOut:
    services = services_of(call.request)
    room_id, window = await services.store.read(invitation.visio_room, call.request.match_info["room"])
    await services.calls.enter(room_id, None, window, call.actor)
    return _call_out(call)


@API.route("DELETE", "/visio/{room}/call", summary="Quitter la salle d'une Visio SMS", tags=("appel",),
           access=Permission.HEALTH_WRITE, response=CallOut, errors=(409,))
async def leave_visio(call: Call) -> CallOut:
    services = services_of(call.request)
    room_id, _ = await services.store.read(invitation.visio_room, call.request.match_info["room"])
    await services.calls.leave(room_id, call.actor)
    return _call_out(call)


@API.route("GET", "/call", summary="L'appel en cours du chariot, s'il y en a un (sans donnée de santé)", tags=("appel",),
           access=SESSION, response=CallOut, allow_locked=True)
async def current_call(call: Call) -> CallOut:
    return _call_out(call)


@API.route("GET", "/call/unattended", summary="Le chariot a-t-il décroché seul ? (écran du chariot sans personne connectée)",
           tags=("appel",), access=PUBLIC, response=UnattendedOut)
async def unattended_call(call: Call) -> UnattendedOut:
    services = services_of(call.request)
    return UnattendedOut(in_call=unattended_screen(call.request) and services.calls.cart_room is not None)


@API.route("POST", "/call/snapshot", summary="Photo en pleine résolution de la caméra active, ajoutée au télédossier de l'appel",
           tags=("appel",), access=Permission.HEALTH_WRITE, response=DocumentOut, status=201, errors=(409,))
async def snapshot(call: Call) -> DocumentOut:
    calls = services_of(call.request).calls
    if calls.cart_room is None:
        raise CallRefused("not_in_call")
    from agent.call.room import RoomRefused  # loaded with the room the cart is in

    try:
        added = await calls.snapshot(calls.cart_room, requested_by="l'équipe soignante", actor=call.actor)
    except RoomRefused as refused:
        raise ApiError("snapshot_failed", reason=refused.text) from refused
    return DocumentOut(**added)


@API.route("GET", "/call/stats", summary="Statistiques de l'appel (débit, images par seconde, définition, pertes, aller-retour, codec)",
           tags=("appel",), access=Permission.DEVICES_MANAGE, response=CallStatsOut)
async def call_stats(call: Call) -> CallStatsOut:
    return CallStatsOut(**await services_of(call.request).calls.stats())


@API.route("GET", "/cameras", summary="Les caméras du chariot et la caméra active", tags=("appel",), access=SESSION, response=CamerasOut)
async def cameras(call: Call) -> CamerasOut:
    return CamerasOut(**services_of(call.request).devices.cameras.state())


@API.route("PUT", "/cameras/active", summary="Changer de caméra (salle ou examen), en appel ou non", tags=("appel",),
           access=Permission.HEALTH_WRITE, body=CameraChoice, response=CamerasOut, errors=(409,))
async def switch_camera(call: Call) -> CamerasOut:
    hub = services_of(call.request).devices.cameras
    try:
        hub.switch(call.body.camera)
    except KeyError as exc:
        raise ApiError("camera_unavailable") from exc
    return CamerasOut(**hub.state())


@API.route("POST", "/cameras/snapshot", summary="Photo en pleine résolution de la caméra active (JPEG), rendue sans être enregistrée : "
           "la demande de téléexpertise l'ajoute au télédossier une fois créé", tags=("appel",), access=Permission.HEALTH_WRITE,
           content_type="image/jpeg", errors=(409,))
async def camera_snapshot(call: Call) -> web.Response:
    """The kiosk keeps the photo until the nurse sends her request (then it is uploaded as a
    document of the new dossier) or drops it: nothing is written here."""
    shot = await services_of(call.request).devices.cameras.snapshot(timeout=SNAPSHOT_WAIT)
    if shot is None:
        raise ApiError("snapshot_failed", reason="La caméra ne donne pas d'image : photo impossible.")
    return web.Response(body=shot.jpeg, content_type="image/jpeg", headers=NO_STORE)


_BOUNDARY = "telecart-preview"


@API.route("GET", "/cameras/preview", summary="Aperçu local de la caméra active (flux MJPEG pour une balise <img>)",
           tags=("appel",), access=Permission.HEALTH_READ, content_type=f"multipart/x-mixed-replace; boundary={_BOUNDARY}")
async def preview(call: Call) -> web.StreamResponse:
    """Small JPEGs of the newest frame at the preview's rate: the nurse aims the otoscope with it."""
    return await stream_preview(call)


async def stream_preview(call: Call) -> web.StreamResponse:
    """The active camera as MJPEG until the page goes or the agent stops. A slow screen gets fewer
    frames, never older ones (each write waits for the previous)."""
    services = services_of(call.request)
    hub, media = services.devices.cameras, services.config.media
    response = web.StreamResponse(headers={"Content-Type": f"multipart/x-mixed-replace; boundary={_BOUNDARY}",
                                           "Cache-Control": "no-store"})
    await response.prepare(call.request)
    loop = asyncio.get_running_loop()
    period = 1.0 / media.preview_fps
    seq = 0
    with open_streams.endless(call.request):
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

