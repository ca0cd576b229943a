"""Documents of a dossier: upload (recognised by content, checked before anything is saved),
download, rename and type, a staff member's signature stamped on a PDF; and that signature."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiohttp import web

from agent.access.roles import Permission
from agent.api.context import services_of
from agent.api.errors import ApiError
from agent.api.registry import API
from agent.api.responses import NO_STORE, file_response
from agent.api.routing import SESSION, Call
from agent.api.schemas.documents import DocumentOut, DocumentPatch, NewsItemOut, NewsOut, NewsQuery, ShareIn, ShareOut
from agent.api.uploads import read_upload, save_upload
from agent.clock import iso, local_stamp, utc_now_iso
from agent.dossiers import documents, news
from agent.dossiers.intake import RejectedDocument
from agent.dossiers.intake.receive import DECODES
from agent.dossiers.intake.stamp import prepare_signature, stamp
from agent.links import patient_share
from agent.notify import masked
from agent.store.files import write_with_file


@API.route("POST", "/dossiers/{id}/documents", summary="Ajouter un document (PDF, JPEG ou PNG, reconnu par son contenu)",
           tags=("documents",), access=Permission.HEALTH_WRITE, response=DocumentOut, status=201, errors=(409,), upload=True)
async def add_document(call: Call) -> DocumentOut:
    services = services_of(call.request)
    limit = services.config.dossiers.max_upload_mib * 1024 * 1024
    upload = await read_upload(call.request, limit)
    kind = upload.fields.get("kind") or "autre"
    if kind not in documents.KINDS:
        raise ApiError("invalid_request", fields=[{"field": "kind", "message": "type de document inconnu"}], summary="type de document inconnu")
    return DocumentOut(**await save_upload(services, call.request.match_info["id"], upload, kind, call.actor))


@API.route("GET", "/dossiers/{id}/documents/{document}", summary="Télécharger un document", tags=("documents",),
           access=Permission.HEALTH_READ, content_type="application/octet-stream")
async def download_document(call: Call) -> web.Response:
    services = services_of(call.request)
    match = call.request.match_info
    row = await services.store.write(documents.opened, match["id"], match["document"], call.actor, essential=True)
    data = await asyncio.get_running_loop().run_in_executor(None, services.blobs.get, row["blob"])
    return file_response(data, row["mime"], row["name"])


@API.route("PATCH", "/dossiers/{id}/documents/{document}", summary="Renommer un document ou changer son type", tags=("documents",),
           access=Permission.HEALTH_WRITE, body=DocumentPatch, response=DocumentOut, errors=(409,))
async def describe_document(call: Call) -> DocumentOut:
    match = call.request.match_info
    changes = call.body.model_dump(exclude_unset=True, exclude_none=True)
    updated = await services_of(call.request).store.write(documents.describe, match["id"], match["document"], changes, call.actor)
    return DocumentOut(**updated)


@API.route("POST", "/dossiers/{id}/documents/{document}/signature", summary="Apposer sa signature sur un document PDF",
           tags=("documents",), access=Permission.HEALTH_WRITE, response=DocumentOut, errors=(409,))
async def sign_document(call: Call) -> DocumentOut:
    services = services_of(call.request)
    match = call.request.match_info
    signature = await services.store.read(documents.signature_of, call.actor.login)
    if signature is None:
        raise ApiError("no_signature")
    row = await services.store.write(documents.opened, match["id"], match["document"], call.actor, essential=True)
    if row["mime"] != "application/pdf":
        raise ApiError("not_a_pdf")
    signer = call.session.principal.display_name
    settings = services.dossier_settings
    when = local_stamp(settings.zone)
    loop = asyncio.get_running_loop()
    stamped = await loop.run_in_executor(None, lambda: stamp(services.blobs.get(row["blob"]), services.blobs.get(signature), signer=signer, signed_at=when))
    updated = await write_with_file(services.store, services.blobs, stamped, lambda db, blob: documents.mark_signed(
        db, match["id"], match["document"], blob, len(stamped), signer, call.actor))
    return DocumentOut(**updated)


@API.route("PUT", "/me/signature", summary="Charger sa signature (photo ou scan, JPEG ou PNG)", tags=("documents",),
           access=Permission.HEALTH_WRITE, status=204, upload=True)
async def upload_signature(call: Call) -> None:
    services = services_of(call.request)
    upload = await read_upload(call.request, 5 * 1024 * 1024)
    loop = asyncio.get_running_loop()
    try:
        async with DECODES:
            png = await loop.run_in_executor(None, prepare_signature, upload.data)
    except RejectedDocument as exc:
        raise ApiError("document_refused", reason=exc.message) from exc
    await write_with_file(services.store, services.blobs, png,
                          lambda db, blob: documents.save_signature(db, call.actor.login, blob, call.actor))


@API.route("GET", "/me/signature", summary="Sa signature, telle qu'elle sera apposée (PNG ; 404 tant qu'aucune n'est chargée)",
           tags=("documents",), access=SESSION, content_type="image/png", errors=(404,))
async def read_signature(call: Call) -> web.Response:
    services = services_of(call.request)
    blob = await services.store.read(documents.signature_of, call.actor.login)
    if blob is None:
        raise ApiError("not_found")
    return web.Response(body=await asyncio.get_running_loop().run_in_executor(None, services.blobs.get, blob),
                        content_type="image/png", headers=NO_STORE)


@API.route("POST", "/dossiers/{id}/documents/{document}/send", summary="Envoyer un PDF au patient : lien par e-mail, code par SMS",
           tags=("documents",), access=Permission.HEALTH_WRITE, body=ShareIn, response=ShareOut, status=201, errors=(409,))
async def send_to_patient(call: Call) -> ShareOut:
    services = services_of(call.request)
    match = call.request.match_info
    settings = services.dossier_settings
    shared = await services.store.write(patient_share.share, match["id"], match["document"], call.body.email, call.body.mobile,
                                     call.actor, settings.public_url, settings.establishment,
                                     services.config.dossiers.download_link_days, settings.zone, datetime.now(UTC))
    services.deliveries_wake()
    return ShareOut(email=masked(shared.email), mobile=masked(shared.mobile), expires_at=iso(shared.expires_at))


@API.route("GET", "/documents/news", summary="Les documents venus de l'extérieur depuis un instant (ordonnance du médecin requis, réponse de la région) : "
           "l'écran du chariot les annonce", tags=("documents",), access=Permission.HEALTH_READ, query=NewsQuery, response=NewsOut)
async def documents_news(call: Call) -> NewsOut:
    """Polled by the kiosk in the background: what arrived after `since` (the kiosk's last answer's
    `now`, or nothing: only `now`, so that opening the kiosk does not announce the past)."""
    services = services_of(call.request)
    now = utc_now_iso()
    if call.query.since is None:
        return NewsOut(now=now, items=[])
    items = await services.store.read(news.recent_from_outside, call.query.since)
    return NewsOut(now=now, items=[NewsItemOut(**item) for item in items])
