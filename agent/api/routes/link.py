"""The specialist's side of the invitation link: a one-time code, then their dossier (read the
fiche, vitals and documents; write and sign the expert's opinion), every read audited under
their name."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, datetime

from aiohttp import web

from agent.access.rate_limits import Door
from agent.api.context import services_of
from agent.api.errors import ApiError
from agent.api.guard import give_link_cookie, peek_guest
from agent.api.join_page import refusal_text
from agent.api.registry import API
from agent.api.responses import file_response
from agent.api.routing import GUEST, PUBLIC, Call
from agent.api.schemas.dossiers import LinkDossierOut, RoomPresenceOut
from agent.api.schemas.link import CodeIn, CodeRequest, CodeSent, CodeStatus, DossierVersionOut, ExpertOpinionIn, LinkSessionOut
from agent.dossiers import documents, dossier, fiche
from agent.dossiers.view import read_whole
from agent.links import invitation, specialist_access
from agent.links.invitation import LinkRefused, ParticipantRole
from agent.links.specialist_access import Guest
from agent.report import export


def _link_error(exc: LinkRefused, call: Call) -> ApiError:
    """The link's own refusals, worded as its page words them (code refusals answer themselves)."""
    return ApiError("link_refused", reason=refusal_text(exc, services_of(call.request).dossier_settings.zone))


@API.route("POST", "/links/{room}/{token}/code", summary="Recevoir un code à usage unique pour ouvrir le télédossier (médecin requis)",
           tags=("specialist",), access=PUBLIC, body=CodeRequest, response=CodeSent, errors=(403, 429))
async def send_code(call: Call) -> CodeSent:
    services = services_of(call.request)
    match = call.request.match_info
    services.rate_limits.knock(Door.CODE_SENT, call.remote_addr)
    invitation_id = match["token"].partition(".")[0]
    services.rate_limits.may_send_code(invitation_id)
    try:
        sent = await services.store.write(specialist_access.send_code, match["room"], match["token"], datetime.now(UTC),
                                          services.config.dossiers.report_window_hours, services.config.dossiers.establishment,
                                          call.body.channel, essential=True)
    except LinkRefused as exc:
        raise _link_error(exc, call) from exc
    services.rate_limits.code_sent(invitation_id)
    services.deliveries_wake()
    return CodeSent(**sent)


@API.route("GET", "/links/{room}/{token}/code", summary="Où en est l'envoi du dernier code (en cours, envoyé, échec)",
           tags=("specialist",), access=PUBLIC, response=CodeStatus, errors=(403, 404))
async def code_status(call: Call) -> CodeStatus:
    services = services_of(call.request)
    match = call.request.match_info
    try:
        found = await services.store.read(specialist_access.code_delivery, match["room"], match["token"], datetime.now(UTC),
                                          services.config.dossiers.report_window_hours)
    except LinkRefused as exc:
        raise _link_error(exc, call) from exc
    if found is None:
        raise ApiError("not_found")
    return CodeStatus(**found)


@API.route("POST", "/links/{room}/{token}/session", summary="Ouvrir le télédossier avec le code reçu", tags=("specialist",),
           access=PUBLIC, body=CodeIn, response=LinkSessionOut, status=201, errors=(403, 429))
async def open_session(call: Call) -> web.Response:
    services = services_of(call.request)
    match = call.request.match_info
    services.rate_limits.knock(Door.CODE_TRIED, call.remote_addr)
    try:
        token, guest = await services.store.write(specialist_access.open_session, match["room"], match["token"], call.body.code,
                                               datetime.now(UTC), services.config.dossiers.report_window_hours, call.remote_addr,
                                               essential=True)
    except LinkRefused as exc:
        raise _link_error(exc, call) from exc
    response = web.json_response(_session_out(call, guest).model_dump(), status=201)
    give_link_cookie(response, call.request, token, match["room"], match["token"], guest)
    return response


@API.route("GET", "/links/{room}/{token}/session", summary="La session du lien, encore ouverte : la demander la garde ouverte "
           "(la page du médecin la demande pendant l'appel)", tags=("specialist",), access=GUEST, response=LinkSessionOut)
async def keep_session(call: Call) -> LinkSessionOut:
    """In the call beside the dossier the doctor uses the dossier's page without touching it: the
    page asks this every so often, so that writing the opinion after the call needs no new code.
    Nothing of the resident: no audit record."""
    return _session_out(call, call.guest)


def _session_out(call: Call, guest: Guest) -> LinkSessionOut:
    return LinkSessionOut(csrf_token=guest.csrf_token, expires_at=guest.expires_at, name=guest.name,
                          idle_seconds=services_of(call.request).idle_lock_seconds)


@API.route("GET", "/links/{room}/{token}/dossier", summary="Le télédossier du médecin requis (fiche, constantes, documents)", tags=("specialist",),
           access=GUEST, response=LinkDossierOut)
async def guest_dossier(call: Call) -> LinkDossierOut:
    services = services_of(call.request)
    found = await services.store.write(read_whole, call.guest.dossier_id, call.actor, services.dossier_settings, essential=True)
    if found is None:
        raise ApiError("not_found")
    data = asdict(found)
    data.pop("invitations")  # other participants' links are theirs alone
    return LinkDossierOut(**data, state_label=found.state_label, csrf_token=call.guest.csrf_token)


@API.route("GET", "/links/{room}/{token}/dossier/version", summary="La version du télédossier : la page du médecin la demande "
           "régulièrement et relit le télédossier quand elle change", tags=("specialist",), access=PUBLIC, response=DossierVersionOut,
           errors=(401,))
async def dossier_version(call: Call) -> DossierVersionOut:
    """What the nurse saves meanwhile (the reason, an observation, a vital, a document) comes on
    the doctor's open page by itself. Asked every few seconds, so the link session is checked
    without counting as its use (`specialist_access.peek`): a page left alone still ends after the
    idle time. Counts and times, nothing of the resident: no audit record."""
    guest = await peek_guest(call.request)
    return DossierVersionOut(version=await services_of(call.request).store.read(dossier.version_of, guest.dossier_id) or "")


@API.route("PATCH", "/links/{room}/{token}/fiche", summary="Écrire l'avis de l'expert", tags=("specialist",), access=GUEST,
           body=ExpertOpinionIn, response=LinkDossierOut, errors=(409,))
async def guest_opinion(call: Call) -> LinkDossierOut:
    await services_of(call.request).store.write(fiche.update, call.guest.dossier_id, {"expert_opinion": call.body.expert_opinion.strip() or None},
                                             call.actor)
    return await guest_dossier(call)


@API.route("POST", "/links/{room}/{token}/signature", summary="Signer l'avis de l'expert : le télédossier est clôturé", tags=("specialist",),
           access=GUEST, response=LinkDossierOut, errors=(409, 422))
async def guest_sign(call: Call) -> LinkDossierOut:
    await services_of(call.request).store.write(fiche.sign, call.guest.dossier_id, call.actor, call.guest.name)
    return await guest_dossier(call)


@API.route("GET", "/links/{room}/{token}/documents/{document}", summary="Télécharger un document du télédossier", tags=("specialist",),
           access=GUEST, content_type="application/octet-stream")
async def guest_document(call: Call) -> web.Response:
    services = services_of(call.request)
    row = await services.store.write(documents.opened, call.guest.dossier_id, call.request.match_info["document"], call.actor,
                                  essential=True)
    data = await asyncio.get_running_loop().run_in_executor(None, services.blobs.get, row["blob"])
    return file_response(data, row["mime"], row["name"], inline=True)


@API.route("GET", "/links/{room}/{token}/report.pdf", summary="Compte rendu de téléconsultation (PDF)", tags=("specialist",),
           access=GUEST, content_type="application/pdf")
async def guest_report(call: Call) -> web.Response:
    services = services_of(call.request)
    made = await services.store.write(export.report_pdf, call.guest.dossier_id, services.dossier_settings, call.actor, essential=True)
    if made is None:
        raise ApiError("not_found")
    return file_response(made[0], "application/pdf", f"compte-rendu-{call.guest.dossier_id[:8]}.pdf")


@API.route("GET", "/links/{room}/{token}/room", summary="Qui est déjà dans la salle (le chariot, les participants, la salle d'attente), "
           "pour le médecin requis avant d'entrer", tags=("specialist",), access=PUBLIC, response=RoomPresenceOut, errors=(403,))
async def room_presence(call: Call) -> RoomPresenceOut:
    """Seed 001 §3.1: « Si la salle est déjà occupée, vous verrez le nombre de participants apparaitre
    ainsi que leur nom ». The specialist's page asks every few seconds while it is open.

    The link is checked as the room's socket checks it (issued, this room, not revoked, within its
    window) and must be the specialist's: their link alone enters the room, where the welcome names
    these same people, so this tells a link's holder nothing the room would not. A relative's or a
    professional's link waits in the lobby and learns nothing of the room: refused. Not the link
    session: asking does not keep it alive, so a page left open still ends after the idle time. No
    resident's data (the names `Calls.presence` gives the kiosk), so no audit record."""
    services = services_of(call.request)
    match = call.request.match_info
    try:
        admission = await services.store.read(invitation.admit, match["room"], match["token"], datetime.now(UTC))
    except LinkRefused as exc:
        if exc.admission is None:
            services.metrics.forged_links.labels("presence").inc()
        raise _link_error(exc, call) from exc
    if admission.role is not ParticipantRole.SPECIALIST:
        raise ApiError("not_a_specialist_link")
    here = next((room for room in services.calls.presence() if room["room"] == admission.room_id), None)
    return RoomPresenceOut(**(here or {"room": admission.room_id, "dossier_id": admission.dossier_id, "cart_in_call": False,
                                       "present": [], "waiting": []}))
