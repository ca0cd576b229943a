"""The room's WebSockets: `/s/{room}/{token}/ws` for a participant's browser, its invitation link
being its only credential, and `/ws/call` for the kiosk, on the nurse's session.

A link that does not open the room now (wrong, revoked, out of its window) is refused before the
upgrade: it never reaches the room or its signalling. Every entry is audited.

agent/call/room.py (and the media stack behind it) is imported once a socket has a room to enter:
the agent starts without it (agent/call/calls.py, `Calls.load_media`).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial

from aiohttp import WSMsgType, web

from agent.access import sessions
from agent.access.roles import Permission
from agent.api import guard, open_streams
from agent.api.context import Services, services_of
from agent.api.errors import ApiError
from agent.api.join_page import refusal_text
from agent.api.uploads import read_upload, save_upload
from agent.audit import Actor
from agent.call.messages import MAX_MESSAGE_BYTES
from agent.clock import now
from agent.dossiers import dossier
from agent.links import invitation
from agent.links.invitation import Admission, LinkRefused

HEARTBEAT_SECONDS = 15.0  # a browser that vanished (network drop) is noticed within ~30 s


def member_id_of(admission: Admission) -> str:
    from agent.call.room import member_of

    return member_of(admission.participant_id)


async def participant_socket(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    await guard.check_origin(request)  # a page elsewhere must not open the room with a link it holds
    room_id, token = request.match_info["room"], request.match_info["token"]
    moment = datetime.now(UTC)

    check = partial(invitation.open_link, opened="entrée dans la salle de téléconsultation", refused="salle refusée",
                    early_is_denied=True)
    outcome = await services.store.write(check, room_id, token, moment, request.remote, essential=True)
    if isinstance(outcome, LinkRefused):
        if outcome.admission is None:
            services.metrics.forged_links.labels("room").inc()
        raise ApiError("link_refused", reason=refusal_text(outcome, services.dossier_settings.zone))
    admission: Admission = outcome
    if admission.dossier_id and await services.store.read(dossier.kind_of, admission.dossier_id) == dossier.TELEEXPERTISE:
        raise ApiError("expertise_has_no_call")
    await asyncio.shield(services.calls.load_media())
    from agent.call.room import RoomRefused

    live = services.calls.room(admission.room_id, admission.dossier_id, admission.window)
    member_id = member_id_of(admission)
    socket = await open_streams.accept_socket(request, heartbeat=HEARTBEAT_SECONDS, max_msg_size=MAX_MESSAGE_BYTES)
    role, invited_as = admission.role.value, invitation.display_name(admission)
    try:
        if live.needs_admission(member_id, role):
            typed = typed_name(request.query.get("nom", ""))
            if typed is None:
                raise RoomRefused("Indiquez votre nom et votre prénom pour entrer en salle d'attente.")
            await live.wait(member_id, typed, invited_as if admission.name else None, role, socket)
        else:
            await live.join(member_id, invited_as, role, socket)
    except RoomRefused as refused:
        # A genuine link, but its person was removed or the room is full: the page must say so,
        # which a refused upgrade cannot (the browser sees only a failed connection).
        await socket.send_json({"type": "removed" if member_id in live.removed else "closed", "text": refused.text})
        await socket.close()
        return socket
    try:
        async for message in socket:
            if message.type is WSMsgType.TEXT:
                await live.handle(member_id, socket, message.data)
            elif message.type is WSMsgType.BINARY:
                await socket.send_json({"type": "error", "text": "Message binaire refusé."})
    finally:
        await live.leave(member_id, socket)
        services.calls.member_left(member_id, role)
    return socket


def typed_name(raw: str) -> str | None:
    """The name someone typed before the lobby, as the moderators will read it: printable, one
    line, 2 to 60 characters; None when there is nothing worth showing."""
    name = " ".join("".join(c for c in raw if c.isprintable()).split())[:60]
    return name if len(name) >= 2 else None


async def kiosk_socket(request: web.Request) -> web.StreamResponse:
    """The kiosk's end of the cart's call: receives the participants, sends the cart's chat and state.
    While it is connected the nurse's session stays unlocked: a call is the kiosk in use."""
    services = services_of(request)
    await guard.check_origin(request)
    session = None
    try:
        session = await guard.require_session(request, allow_locked=False)
    except ApiError:
        if not guard.unattended_screen(request):
            raise
    if session is not None:
        await guard.require_permission(request, session, Permission.HEALTH_READ)
    live = services.calls.cart_room
    if live is None:
        raise ApiError("not_in_call")
    from agent.call.room import SCREEN

    socket = await open_streams.accept_socket(request, heartbeat=HEARTBEAT_SECONDS, max_msg_size=MAX_MESSAGE_BYTES)
    nurse = Actor(session.principal.login, session.principal.role.value, request.remote) if session else None
    await live.attach_screen(socket, nurse)
    keep_alive = asyncio.get_running_loop().create_task(_keep_session(services, session)) if session else None
    try:
        async for message in socket:
            if message.type is WSMsgType.TEXT:
                await live.handle(SCREEN, socket, message.data)
    finally:
        if keep_alive is not None:
            keep_alive.cancel()
        live.detach_screen(socket)
    return socket


async def _keep_session(services: Services, session: sessions.Session) -> None:
    interval = max(1.0, sessions.touch_interval(services.idle_lock_seconds))
    while True:
        await services.store.write(sessions.touch, session, now(), essential=True)
        await asyncio.sleep(interval)


async def participant_document(request: web.Request) -> web.Response:
    """A participant sends a document during the call (a prescription, a letter, a photo): it goes
    into the room's dossier under their name, checked like any upload, and the room is told."""
    services = services_of(request)
    moment = datetime.now(UTC)
    await guard.check_origin(request)
    try:
        admission = await services.store.read(invitation.admit, request.match_info["room"], request.match_info["token"], moment)
    except LinkRefused as refused:
        raise ApiError("link_refused", reason=refusal_text(refused, services.dossier_settings.zone)) from refused
    if admission.dossier_id is None:
        raise ApiError("no_dossier_for_room")
    live = services.calls.rooms.get(admission.room_id)
    outsider = services.config.call.lobby and admission.role is not invitation.ParticipantRole.SPECIALIST
    if outsider and (live is None or live.needs_admission(member_id_of(admission), admission.role.value)):
        raise ApiError("not_admitted")  # a forwarded link adds nothing to a resident's dossier
    upload = await read_upload(request, services.config.dossiers.max_upload_mib * 1024 * 1024)
    name = invitation.display_name(admission)
    actor = Actor(name[:60], admission.role.value, request.remote)
    added = await save_upload(services, admission.dossier_id, upload, "autre", actor)
    if live is not None:
        await live.notice(f"{name} a ajouté le document « {added['name']} » au dossier.")
    return web.json_response({"id": added["id"], "name": added["name"], "mime": added["mime"]}, status=201)


def install(app: web.Application) -> None:
    app.router.add_get("/s/{room}/{token}/ws", participant_socket)
    app.router.add_post("/s/{room}/{token}/documents", participant_document)
    app.router.add_get("/ws/call", kiosk_socket)
