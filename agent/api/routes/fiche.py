"""The teleconsultation form: its text, vitals, the expert's signature; the report PDF and the
export for the practice software."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from agent.access.roles import Permission
from agent.api.context import services_of
from agent.api.dossier_reply import dossier_reply
from agent.api.errors import ApiError
from agent.api.registry import API
from agent.api.responses import file_response
from agent.api.routing import Call
from agent.api.schemas.dossiers import DossierOut
from agent.api.schemas.fiche import ConsultationEndIn, ConsultationEndOut, FicheDraft, FicheIn, VitalIn
from agent.clock import iso
from agent.dossiers import consultation_end, fiche, fiche_draft
from agent.report import export


@API.route("PATCH", "/dossiers/{id}/fiche", summary="Remplir la fiche de téléconsultation (refusé une fois signée)",
           tags=("fiche",), access=Permission.HEALTH_WRITE, body=FicheIn, response=DossierOut, errors=(409,))
async def update_fiche(call: Call) -> DossierOut:
    changes = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in call.body.model_dump(exclude_unset=True).items()}
    if changes:
        await services_of(call.request).store.write(fiche.update, call.request.match_info["id"], changes, call.actor)
    return await dossier_reply(call)


@API.route("GET", "/dossiers/{id}/fiche/draft", summary="La fiche telle que l'utilisateur l'a tapée sans l'enregistrer",
           tags=("fiche",), access=Permission.HEALTH_WRITE, response=FicheDraft)
async def read_fiche_draft(call: Call) -> FicheDraft:
    found = await services_of(call.request).store.read(fiche_draft.load, call.request.match_info["id"], call.actor.login)
    return FicheDraft(draft=found)


@API.route("PUT", "/dossiers/{id}/fiche/draft", summary="Garder la fiche telle qu'elle est tapée (verrouillage, rechargement, redémarrage)",
           tags=("fiche",), access=Permission.HEALTH_WRITE, body=FicheDraft, response=FicheDraft, errors=(409,))
async def save_fiche_draft(call: Call) -> FicheDraft:
    body: FicheDraft = call.body
    store, dossier_id = services_of(call.request).store, call.request.match_info["id"]
    if body.draft is None:
        await store.write(fiche_draft.drop, dossier_id, call.actor.login)
    else:
        await store.write(fiche_draft.save, dossier_id, call.actor.login, body.draft.model_dump(exclude_unset=True))
    return body


@API.route("POST", "/dossiers/{id}/vitals", summary="Ajouter une constante (saisie) à la fiche", tags=("fiche",),
           access=Permission.HEALTH_WRITE, body=VitalIn, response=DossierOut, status=201, errors=(409,))
async def add_vital(call: Call) -> DossierOut:
    body: VitalIn = call.body
    value = fiche.plausible(body.kind, body.value)
    kind = fiche.VITALS[body.kind]
    if value is None:
        raise ApiError("implausible_vital", label=kind.label, value=body.value, unit=kind.unit)
    measured = iso((body.measured_at or datetime.now(UTC)).astimezone(UTC))
    await services_of(call.request).store.write(fiche.add_vital, call.request.match_info["id"], body.kind, value, measured, call.actor)
    return await dossier_reply(call)


@API.route("POST", "/dossiers/{id}/signature", summary="Signer l'avis de l'expert : le télédossier est clôturé", tags=("fiche",),
           access=Permission.HEALTH_WRITE, response=DossierOut, errors=(409, 422))
async def sign_fiche(call: Call) -> DossierOut:
    await services_of(call.request).store.write(fiche.sign, call.request.match_info["id"], call.actor, call.session.principal.display_name)
    return await dossier_reply(call)


@API.route("GET", "/dossiers/{id}/report.pdf", summary="Compte rendu de téléconsultation (PDF)", tags=("fiche",),
           access=Permission.HEALTH_READ, content_type="application/pdf")
async def report_pdf(call: Call) -> web.Response:
    services = services_of(call.request)
    dossier_id = call.request.match_info["id"]
    made = await services.store.write(export.report_pdf, dossier_id, services.dossier_settings, call.actor, essential=True)
    if made is None:
        raise ApiError("not_found")
    return file_response(made[0], "application/pdf", f"compte-rendu-{dossier_id[:8]}.pdf")


@API.route("GET", "/dossiers/{id}/export", summary="Tout le télédossier (compte rendu et documents) en un fichier ZIP",
           tags=("fiche",), access=Permission.HEALTH_READ, content_type="application/zip")
async def export_dossier(call: Call) -> web.Response:
    services = services_of(call.request)
    dossier_id = call.request.match_info["id"]
    made = await services.store.write(export.export_zip, dossier_id, services.dossier_settings, call.actor, services.blobs, essential=True)
    if made is None:
        raise ApiError("not_found")
    return file_response(made, "application/zip", f"teledossier-{dossier_id[:8]}.zip")


@API.route("POST", "/dossiers/{id}/end", summary="Fin de téléconsultation : note, montant, documents envoyés au patient",
           tags=("fiche",), access=Permission.HEALTH_WRITE, body=ConsultationEndIn, response=ConsultationEndOut, errors=(409,))
async def end_consultation(call: Call) -> ConsultationEndOut:
    services = services_of(call.request)
    body: ConsultationEndIn = call.body
    settings = services.dossier_settings
    dossier_id = call.request.match_info["id"]
    sent, state = await services.store.write(consultation_end.end, dossier_id, body.rating, (body.comment or "").strip() or None,
                                   body.amount_cents, body.send, [r.model_dump() for r in body.also_to], call.actor, settings.public_url, settings.establishment,
                                   services.config.dossiers.download_link_days, settings.zone, datetime.now(UTC))
    services.deliveries_wake()
    await services.calls.consultation_ended(dossier_id)
    return ConsultationEndOut(sent=sent, state=state)
