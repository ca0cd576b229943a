"""Teleconsultation dossiers: the wizard's validation, the activity view, a dossier's page, its
state changes and its invitations."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from agent.access.roles import Permission
from agent.api.context import services_of
from agent.api.dossier_reply import dossier_out, dossier_reply
from agent.api.registry import API
from agent.api.routing import Call
from agent.api.schemas.dossiers import (
    ActivityPulse,
    CancellationIn,
    DossierCreate,
    DossierList,
    DossierOut,
    DossierQuery,
    DossierSummaryOut,
    ParticipantIn,
    PulseQuery,
    RoomPresenceOut,
    TransitionIn,
    VisioIn,
    VisioOut,
    WizardDraft,
)
from agent.dossiers import dossier, wizard_draft
from agent.links import visio
from agent.links.invitation import ParticipantRole


def _create_and_drop_draft(db, new, actor, settings, now):  # noqa: ANN001, ANN202 (one transaction)
    created = dossier.create(db, new, actor, settings, now)
    wizard_draft.drop(db, actor.login)
    return created


@API.route("POST", "/dossiers", summary="Créer un télédossier et envoyer les invitations (tout ou rien ; 409 si le chariot est déjà pris)",
           tags=("dossiers",), access=Permission.HEALTH_WRITE, body=DossierCreate, response=DossierOut, status=201, errors=(409,))
async def create_dossier(call: Call) -> DossierOut:
    body: DossierCreate = call.body
    services = services_of(call.request)
    specialist = body.specialist.model_dump()
    new = dossier.NewDossier(
        patient_id=body.patient_id, consent_given=body.consent.given,
        consent_comment=(body.consent.comment or "").strip() or None, accompaniment=body.accompaniment.kind,
        companion=body.accompaniment.companion.model_dump() if body.accompaniment.companion else None,
        specialist=specialist, slot_start=None if body.slot.now else body.slot.start.astimezone(UTC),
        slot_minutes=body.slot.duration_minutes, reason=(body.reason or "").strip() or None,
        confirm_overlap=body.confirm_overlap,
    )
    created = await services.store.write(_create_and_drop_draft, new, call.actor, services.dossier_settings, datetime.now(UTC))
    services.deliveries_wake()
    return dossier_out(created)


@API.route("GET", "/dossiers", summary="Télédossiers de la vue activité, ou d'un résident", tags=("dossiers",),
           access=Permission.HEALTH_READ, query=DossierQuery, response=DossierList)
async def list_dossiers(call: Call) -> DossierList:
    query: DossierQuery = call.query
    items, total = await services_of(call.request).store.write(dossier.list_for_activity, call.actor, 200, query.patient_id,
                                                               essential=True)
    return DossierList(items=[DossierSummaryOut(**asdict(item)) for item in items], total=total)


@API.route("GET", "/activity/pulse", summary="Ce qui a changé et qui est en salle (sans donnée de santé : pour l'actualisation automatique)",
           tags=("dossiers",), access=Permission.HEALTH_READ, query=PulseQuery, response=ActivityPulse)
async def activity_pulse(call: Call) -> ActivityPulse:
    services = services_of(call.request)
    version = await services.store.read(dossier.activity_version)
    opened = call.query.dossier
    dossier_version = await services.store.read(dossier.version_of, opened) if opened else None
    return ActivityPulse(version=version, rooms=[RoomPresenceOut(**room) for room in services.calls.presence()], dossier_version=dossier_version)


@API.route("GET", "/dossiers/{id}", summary="Lire un télédossier (consentement, participants, invitations, fiche, documents)",
           tags=("dossiers",), access=Permission.HEALTH_READ, response=DossierOut)
async def read_dossier(call: Call) -> DossierOut:
    return await dossier_reply(call)


@API.route("POST", "/dossiers/{id}/transitions", summary="Faire passer un télédossier à l'état suivant", tags=("dossiers",),
           access=Permission.HEALTH_WRITE, body=TransitionIn, response=DossierOut, errors=(409,))
async def change_state(call: Call) -> DossierOut:
    services = services_of(call.request)
    dossier_id = call.request.match_info["id"]
    await services.store.write(dossier.transition, dossier_id, call.body.to, call.actor)
    return await dossier_reply(call)


@API.route("POST", "/dossiers/{id}/cancellation", summary="Annuler la téléconsultation, avec son motif (le télédossier reste, en lecture seule)",
           tags=("dossiers",), access=Permission.HEALTH_WRITE, body=CancellationIn, response=DossierOut, errors=(409,))
async def cancel_dossier(call: Call) -> DossierOut:
    services = services_of(call.request)
    await services.store.write(dossier.cancel, call.request.match_info["id"], call.body.reason.strip(), call.actor)
    return await dossier_reply(call)


@API.route("POST", "/dossiers/{id}/invitations/{invitation}/resend", summary="Renvoyer une invitation (même lien)",
           tags=("dossiers",), access=Permission.HEALTH_WRITE, response=DossierOut, errors=(409,))
async def resend_invitation(call: Call) -> DossierOut:
    services = services_of(call.request)
    match = call.request.match_info
    await services.store.write(dossier.resend, match["id"], match["invitation"], call.actor, services.dossier_settings)
    services.deliveries_wake()
    return await dossier_reply(call)


@API.route("DELETE", "/dossiers/{id}/invitations/{invitation}", summary="Révoquer une invitation : son lien n'ouvre plus la salle",
           tags=("dossiers",), access=Permission.HEALTH_WRITE, response=DossierOut)
async def revoke_invitation(call: Call) -> DossierOut:
    services = services_of(call.request)
    match = call.request.match_info
    await services.store.write(dossier.revoke, match["id"], match["invitation"], call.actor)
    where = await services.store.read(dossier.participant_of, match["invitation"])
    if where is not None:  # in the call right now: out of it as well
        await services.calls.revoked(*where)
    return await dossier_reply(call)


@API.route("POST", "/dossiers/{id}/invitations/{invitation}/reinvitation", summary="Inviter de nouveau après une révocation (nouveau lien)",
           tags=("dossiers",), access=Permission.HEALTH_WRITE, response=DossierOut, status=201, errors=(409,))
async def reinvite(call: Call) -> DossierOut:
    services = services_of(call.request)
    match = call.request.match_info
    room_id, participant_id = await services.store.write(dossier.reinvite, match["id"], match["invitation"], call.actor,
                                                         services.dossier_settings)
    services.calls.reinvited(room_id, participant_id)
    services.deliveries_wake()
    return await dossier_reply(call)


@API.route("POST", "/dossiers/{id}/invitations", summary="Inviter un participant de plus (proche, professionnel) : lien par e-mail ou SMS",
           tags=("dossiers",), access=Permission.HEALTH_WRITE, body=ParticipantIn, response=DossierOut, status=201, errors=(409,))
async def invite_participant(call: Call) -> DossierOut:
    services = services_of(call.request)
    body: ParticipantIn = call.body
    person = body.model_dump(exclude={"role"})
    await services.store.write(dossier.invite_participant, call.request.match_info["id"], ParticipantRole(body.role), person, call.actor,
                            services.dossier_settings)
    services.deliveries_wake()
    return await dossier_reply(call)


@API.route("GET", "/wizard/draft", summary="Brouillon de l'assistant de création de l'utilisateur connecté", tags=("dossiers",),
           access=Permission.HEALTH_WRITE, response=WizardDraft)
async def read_draft(call: Call) -> WizardDraft:
    found = await services_of(call.request).store.read(wizard_draft.load, call.actor.login)
    return WizardDraft(draft=found)


@API.route("PUT", "/wizard/draft", summary="Enregistrer le brouillon de l'assistant (il survit à un rechargement ou un verrouillage)",
           tags=("dossiers",), access=Permission.HEALTH_WRITE, body=WizardDraft, response=WizardDraft)
async def save_draft(call: Call) -> WizardDraft:
    body: WizardDraft = call.body
    store = services_of(call.request).store
    if body.draft is None:
        await store.write(wizard_draft.drop, call.actor.login)
    else:
        await store.write(wizard_draft.save, call.actor.login, body.draft)
    return body


@API.route("POST", "/visio", summary="Visio SMS : une téléconsultation immédiate, sans télédossier, sur un numéro ou un e-mail",
           tags=("dossiers",), access=Permission.HEALTH_WRITE, body=VisioIn, response=VisioOut, status=201)
async def start_visio(call: Call) -> VisioOut:
    services = services_of(call.request)
    started = await services.store.write(visio.start, call.body.model_dump(), call.actor, services.dossier_settings, datetime.now(UTC))
    services.deliveries_wake()
    return VisioOut(**started)
