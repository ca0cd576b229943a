"""Teleconsultation dossiers: the wizard's validation, the activity view, a dossier's page, its
state changes and its invitations."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from agent.access.roles import Permission
from agent.api.context import agent_of
from agent.api.errors import ApiError
from agent.api.routes import API
from agent.api.routing import Call
from agent.api.schemas import (
    DossierCreate,
    DossierList,
    DossierOut,
    DossierSummaryOut,
    ParticipantIn,
    TransitionIn,
    VisioIn,
    VisioOut,
    WizardDraft,
)
from agent.dossiers import documents, dossier, fiche, wizard_draft
from agent.links import visio
from agent.links.invitation import ParticipantRole


def dossier_out(found: dossier.Dossier) -> DossierOut:
    return DossierOut(**asdict(found), state_label=found.state_label)


def _create_and_drop_draft(db, new, actor, settings, now):  # noqa: ANN001, ANN202 (one transaction)
    created = dossier.create(db, new, actor, settings, now)
    wizard_draft.drop(db, actor.login)
    return created


@API.route("POST", "/dossiers", summary="Créer un télédossier et envoyer les invitations (tout ou rien)", tags=("dossiers",),
           access=Permission.HEALTH_WRITE, body=DossierCreate, response=DossierOut, status=201)
async def create_dossier(call: Call) -> DossierOut:
    body: DossierCreate = call.body
    agent = agent_of(call.request)
    specialist = body.specialist.model_dump()
    new = dossier.NewDossier(
        patient_id=body.patient_id, consent_given=body.consent.given,
        consent_comment=(body.consent.comment or "").strip() or None, accompaniment=body.accompaniment.kind,
        companion=body.accompaniment.companion.model_dump() if body.accompaniment.companion else None,
        specialist=specialist, slot_start=None if body.slot.now else body.slot.start.astimezone(UTC),
        slot_minutes=body.slot.duration_minutes, reason=(body.reason or "").strip() or None,
    )
    created = await agent.store.write(_create_and_drop_draft, new, call.actor, agent.dossier_settings, datetime.now(UTC))
    agent.deliveries_wake()
    return dossier_out(created)


@API.route("GET", "/dossiers", summary="Télédossiers de la vue activité", tags=("dossiers",),
           access=Permission.HEALTH_READ, response=DossierList)
async def list_dossiers(call: Call) -> DossierList:
    items, total = await agent_of(call.request).store.write(dossier.list_for_activity, call.actor, essential=True)
    return DossierList(items=[DossierSummaryOut(**asdict(item)) for item in items], total=total)


def read_whole(db, dossier_id, actor, settings):  # noqa: ANN001, ANN201 (store thread)
    """A dossier with its fiche's vitals and its documents, read (and audited) at once."""
    found = dossier.read(db, dossier_id, actor, settings)
    if found is not None:
        found.vitals = fiche.vitals_of(db, dossier_id)
        found.documents = documents.list_for(db, dossier_id)
    return found


@API.route("GET", "/dossiers/{id}", summary="Lire un télédossier (consentement, participants, invitations, fiche, documents)",
           tags=("dossiers",), access=Permission.HEALTH_READ, response=DossierOut)
async def read_dossier(call: Call) -> DossierOut:
    agent = agent_of(call.request)
    found = await agent.store.write(read_whole, call.request.match_info["id"], call.actor, agent.dossier_settings, essential=True)
    if found is None:
        raise ApiError("not_found")
    return dossier_out(found)


@API.route("POST", "/dossiers/{id}/transitions", summary="Faire passer un télédossier à l'état suivant", tags=("dossiers",),
           access=Permission.HEALTH_WRITE, body=TransitionIn, response=DossierOut, errors=(409,))
async def change_state(call: Call) -> DossierOut:
    agent = agent_of(call.request)
    dossier_id = call.request.match_info["id"]
    await agent.store.write(dossier.transition, dossier_id, call.body.to, call.actor)
    return await read_dossier(call)


@API.route("POST", "/dossiers/{id}/invitations/{invitation}/resend", summary="Renvoyer une invitation (même lien)",
           tags=("dossiers",), access=Permission.HEALTH_WRITE, response=DossierOut, errors=(409,))
async def resend_invitation(call: Call) -> DossierOut:
    agent = agent_of(call.request)
    match = call.request.match_info
    await agent.store.write(dossier.resend, match["id"], match["invitation"], call.actor, agent.dossier_settings)
    agent.deliveries_wake()
    return await read_dossier(call)


@API.route("DELETE", "/dossiers/{id}/invitations/{invitation}", summary="Révoquer une invitation : son lien n'ouvre plus la salle",
           tags=("dossiers",), access=Permission.HEALTH_WRITE, response=DossierOut)
async def revoke_invitation(call: Call) -> DossierOut:
    agent = agent_of(call.request)
    match = call.request.match_info
    await agent.store.write(dossier.revoke, match["id"], match["invitation"], call.actor)
    where = await agent.store.read(dossier.participant_of, match["invitation"])
    if where is not None:  # in the call right now: out of it as well
        await agent.calls.revoked(*where)
    return await read_dossier(call)


@API.route("POST", "/dossiers/{id}/invitations", summary="Inviter un participant de plus (proche, professionnel) : lien par e-mail ou SMS",
           tags=("dossiers",), access=Permission.HEALTH_WRITE, body=ParticipantIn, response=DossierOut, status=201, errors=(409,))
async def invite_participant(call: Call) -> DossierOut:
    agent = agent_of(call.request)
    body: ParticipantIn = call.body
    person = body.model_dump(exclude={"role"})
    await agent.store.write(dossier.invite_participant, call.request.match_info["id"], ParticipantRole(body.role), person, call.actor,
                            agent.dossier_settings)
    agent.deliveries_wake()
    return await read_dossier(call)


@API.route("GET", "/wizard/draft", summary="Brouillon de l'assistant de création de l'utilisateur connecté", tags=("dossiers",),
           access=Permission.HEALTH_WRITE, response=WizardDraft)
async def read_draft(call: Call) -> WizardDraft:
    found = await agent_of(call.request).store.read(wizard_draft.load, call.actor.login)
    return WizardDraft(draft=found)


@API.route("PUT", "/wizard/draft", summary="Enregistrer le brouillon de l'assistant (il survit à un rechargement ou un verrouillage)",
           tags=("dossiers",), access=Permission.HEALTH_WRITE, body=WizardDraft, response=WizardDraft)
async def save_draft(call: Call) -> WizardDraft:
    body: WizardDraft = call.body
    store = agent_of(call.request).store
    if body.draft is None:
        await store.write(wizard_draft.drop, call.actor.login)
    else:
        await store.write(wizard_draft.save, call.actor.login, body.draft)
    return body


@API.route("POST", "/visio", summary="Visio SMS : une téléconsultation immédiate, sans télédossier, sur un numéro ou un e-mail",
           tags=("dossiers",), access=Permission.HEALTH_WRITE, body=VisioIn, response=VisioOut, status=201)
async def start_visio(call: Call) -> VisioOut:
    agent = agent_of(call.request)
    started = await agent.store.write(visio.start, call.body.model_dump(), call.actor, agent.dossier_settings, datetime.now(UTC))
    agent.deliveries_wake()
    return VisioOut(**started)
