"""The specialist's own documents and colleagues, from their link page, while their link session lasts (seed 001
§3–4): a file they add (PDF, JPEG, PNG, checked like every upload, a PDF signed with their
signature image if they ask), their signature image (uploaded once, kept for their later links to
this cart), and a prescription written on the page, made a signed read-only PDF in the dossier.
Everything is audited under their name and announced on the kiosk (agent/dossiers/news.py
`recent_from_outside`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from agent.api.context import services_of
from agent.api.errors import ApiError
from agent.api.registry import API
from agent.api.routing import GUEST, Call
from agent.api.schemas.documents import DocumentOut, ShareIn, ShareOut
from agent.api.schemas.prescriptions import ColleagueIn, ColleagueOut, PrescriptionIn, SignatureImageOut
from agent.api.uploads import read_upload, save_upload
from agent.clock import iso, local_stamp
from agent.dossiers import documents, dossier, prescription
from agent.dossiers.intake.receive import DECODES
from agent.dossiers.intake.stamp import RejectedDocument, prepare_signature, stamp
from agent.dossiers.prescription_filing import file_prescription
from agent.links import patient_share
from agent.links.invitation import ParticipantRole
from agent.notify import masked
from agent.report.prescription import Medicine
from agent.store.files import write_with_file

_TAGS = ("specialist",)


async def _signature(services, specialist) -> bytes | None:  # noqa: ANN001
    blob = await services.store.read(documents.signature_of, prescription.signature_key(specialist))
    return None if blob is None else await asyncio.get_running_loop().run_in_executor(None, services.blobs.get, blob)


async def _specialist(call: Call) -> dict:
    return await services_of(call.request).store.read(prescription.specialist_of, call.guest.invitation_id)


@API.route("GET", "/links/{room}/{token}/signature-image", summary="Le médecin requis a-t-il déjà chargé sa signature sur ce chariot ?",
           tags=_TAGS, access=GUEST, response=SignatureImageOut)
async def guest_signature_image(call: Call) -> SignatureImageOut:
    return SignatureImageOut(present=await _signature(services_of(call.request), await _specialist(call)) is not None)


@API.route("PUT", "/links/{room}/{token}/signature-image", summary="Charger sa signature (photo ou scan, JPEG ou PNG), gardée pour ses liens suivants",
           tags=_TAGS, access=GUEST, response=SignatureImageOut, upload=True, errors=(422,))
async def guest_upload_signature(call: Call) -> SignatureImageOut:
    services = services_of(call.request)
    upload = await read_upload(call.request, 5 * 1024 * 1024)
    try:
        async with DECODES:
            png = await asyncio.get_running_loop().run_in_executor(None, prepare_signature, upload.data)
    except RejectedDocument as exc:
        raise ApiError("document_refused", reason=exc.message) from exc
    key = prescription.signature_key(await _specialist(call))
    await write_with_file(services.store, services.blobs, png, lambda db, blob: documents.save_signature(db, key, blob, call.actor))
    return SignatureImageOut(present=True)


@API.route("POST", "/links/{room}/{token}/documents", summary="Ajouter un document au télédossier (PDF, JPEG ou PNG ; un PDF peut être signé)",
           tags=_TAGS, access=GUEST, response=DocumentOut, status=201, errors=(409,), upload=True)
async def guest_add_document(call: Call) -> DocumentOut:
    services = services_of(call.request)
    upload = await read_upload(call.request, services.config.dossiers.max_upload_mib * 1024 * 1024)
    kind = upload.fields.get("kind") or "autre"
    if kind not in documents.KINDS:
        raise ApiError("invalid_request", fields=[{"field": "kind", "message": "type de document inconnu"}], summary="type de document inconnu")
    signature = None
    if upload.fields.get("sign") == "1":
        signature = await _signature(services, await _specialist(call))
        if signature is None:
            raise ApiError("no_signature_image")
        if not upload.data.startswith(b"%PDF"):
            raise ApiError("not_a_pdf")
    added = await save_upload(services, call.guest.dossier_id, upload, kind, call.actor)
    if signature is not None:
        added = await _stamped(call, added, signature)
    return DocumentOut(**added)


async def _stamped(call: Call, document: dict, signature: bytes) -> dict:
    services = services_of(call.request)
    row = await services.store.write(documents.opened, call.guest.dossier_id, document["id"], call.actor, essential=True)
    when = local_stamp(services.dossier_settings.zone)
    loop = asyncio.get_running_loop()
    signed = await loop.run_in_executor(None, lambda: stamp(services.blobs.get(row["blob"]), signature, signer=call.guest.name, signed_at=when))
    return await write_with_file(services.store, services.blobs, signed, lambda db, blob: documents.mark_signed(
        db, call.guest.dossier_id, document["id"], blob, len(signed), call.guest.name, call.actor))


@API.route("POST", "/links/{room}/{token}/prescriptions", summary="Rédiger une ordonnance : signée de sa signature, datée, versée au télédossier en PDF",
           tags=_TAGS, access=GUEST, body=PrescriptionIn, response=DocumentOut, status=201, errors=(409, 422))
async def guest_prescription(call: Call) -> DocumentOut:
    services = services_of(call.request)
    body: PrescriptionIn = call.body
    medicines = [Medicine(name=m.name.strip(), dosage=m.dosage.strip(), duration=m.duration.strip()) for m in body.medicines if m.name.strip()]
    if not medicines and not body.notes.strip():
        raise ApiError("prescription_empty")
    specialist = await _specialist(call)
    signature = await _signature(services, specialist)
    if signature is None:
        raise ApiError("no_signature_image")
    return DocumentOut(**await file_prescription(services.store, services.blobs, services.dossier_settings, call.guest.dossier_id, specialist,
                                                 medicines, body.notes.strip(), signature, call.actor, call.guest.name))


@API.route("POST", "/links/{room}/{token}/documents/{document}/send", summary="Envoyer un PDF du télédossier au résident ou à un proche : "
           "lien par e-mail, code par SMS", tags=_TAGS, access=GUEST, body=ShareIn, response=ShareOut, status=201, errors=(409, 422))
async def guest_send_to_patient(call: Call) -> ShareOut:
    """The same share as the nurse's (agent/links/patient_share.py): a link by e-mail, its code by SMS."""
    services = services_of(call.request)
    settings = services.dossier_settings
    shared = await services.store.write(patient_share.share, call.guest.dossier_id, call.request.match_info["document"], call.body.email,
                                        call.body.mobile, call.actor, settings.public_url, settings.establishment,
                                        services.config.dossiers.download_link_days, settings.zone, datetime.now(UTC))
    services.deliveries_wake()
    return ShareOut(email=masked(shared.email), mobile=masked(shared.mobile), expires_at=iso(shared.expires_at))


@API.route("POST", "/links/{room}/{token}/invitations", summary="Inviter un confrère : au télédossier (il lit et donne son avis) ou à l'appel seulement",
           tags=_TAGS, access=GUEST, body=ColleagueIn, response=ColleagueOut, status=201, errors=(409, 422))
async def guest_invite_colleague(call: Call) -> ColleagueOut:
    """Seed 001 §3.2: the doctor asks a colleague's opinion. Invited into the dossier, the colleague
    gets a specialist's link (the dossier, the call, the opinion); into the call, a professional's."""
    services = services_of(call.request)
    body: ColleagueIn = call.body
    role = ParticipantRole.SPECIALIST if body.access == "dossier" else ParticipantRole.PROFESSIONAL
    person = body.model_dump(exclude={"access"})
    await services.store.write(dossier.invite_participant, call.guest.dossier_id, role, person, call.actor, services.dossier_settings)
    services.deliveries_wake()
    return ColleagueOut(name=" ".join(x for x in (body.first_name, body.name) if x), access=body.access,
                        sent_to=masked(body.email) if body.email else masked(body.mobile))
