"""Téléexpertise (issue 15; seed 002 lists it beside teleconsultation): the nurse asks an expert's
opinion in writing, without a call, by a deadline she chooses. It is a dossier of its own kind
(agent/dossiers/dossier.py TELEEXPERTISE): no slot, so it holds no time of the cart; the expert is
invited by link as for a teleconsultation, reads the dossier (photos from the exam camera,
documents, vitals added on its page as usual), writes and signs; reminded before the deadline
(agent/dossiers/expertise.py); the signed answer is announced on the kiosk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.access.roles import Permission
from agent.api.context import services_of
from agent.api.dossier_reply import dossier_out
from agent.api.registry import API
from agent.api.routing import Call
from agent.api.schemas.dossiers import DossierOut
from agent.api.schemas.expertise import ExpertiseCreate
from agent.dossiers import dossier


@API.route("POST", "/expertises", summary="Demander une téléexpertise : l'avis écrit d'un expert, sans appel, avant une échéance",
           tags=("dossiers",), access=Permission.HEALTH_WRITE, body=ExpertiseCreate, response=DossierOut, status=201, errors=(409,))
async def request_expertise(call: Call) -> DossierOut:
    body: ExpertiseCreate = call.body
    services = services_of(call.request)
    now = datetime.now(UTC)
    new = dossier.NewDossier(
        patient_id=body.patient_id, consent_given=body.consent.given, consent_comment=(body.consent.comment or "").strip() or None,
        accompaniment="alone", companion=None, specialist=body.specialist.model_dump(), slot_start=None, reason=body.reason.strip(),
        kind=dossier.TELEEXPERTISE, deadline=now + timedelta(hours=body.deadline_hours), question=body.question.strip(),
    )
    created = await services.store.write(dossier.create, new, call.actor, services.dossier_settings, now)
    services.deliveries_wake()
    return dossier_out(created)
