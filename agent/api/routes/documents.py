"""Documents of a dossier: upload (recognised by content, checked before anything is saved),
download, rename and type, a staff member's signature stamped on a PDF; and that signature."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from agent.access.roles import Permission
from agent.api.context import agent_of
from agent.api.errors import ApiError
from agent.api.responses import NO_STORE, file_response
from agent.api.routes import API
from agent.api.routing import SESSION, Call
from agent.api.schemas import DocumentOut, DocumentPatch, ShareIn, ShareOut
from agent.audit import Actor
from agent.clock import iso
from agent.dossiers import documents
from agent.dossiers.intake import RejectedDocument, inspect, suggested_extension
from agent.dossiers.intake.stamp import prepare_signature, stamp
from agent.links import patient_share
from agent.notify import masked

if TYPE_CHECKING:
    from agent.app import Agent

_TEXT_FIELD_LIMIT = 1024


@dataclass
class Upload:
    data: bytes
    filename: str | None
    fields: dict[str, str]


async def read_upload(request: web.Request, limit: int) -> Upload:
    """The `file` part of a multipart form, streamed and cut off at `limit` bytes (the JSON body
    limit does not apply to uploads); other parts are short text fields."""
    if not request.content_type.startswith("multipart/form-data"):
        raise ApiError("unsupported_media_type")
    try:
        return await _read_parts(await request.multipart(), limit)
    except (ValueError, AssertionError, HttpProcessingError) as exc:  # a malformed form: boundary, headers
        raise ApiError("bad_request") from exc


async def _read_parts(reader: MultipartReader, limit: int) -> Upload:
    data: bytearray | None = None
    filename = None
    fields: dict[str, str] = {}
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise ApiError("bad_request")
        if part.name == "file":
            data, filename = bytearray(), part.filename
            while chunk := await part.read_chunk(64 * 1024):
                data += chunk
                if len(data) > limit:
                    raise ApiError("file_too_large", limit=limit // (1024 * 1024))
        elif part.name:
            raw = await part.read_chunk(_TEXT_FIELD_LIMIT + 1)
            if len(raw) > _TEXT_FIELD_LIMIT:
                raise ApiError("bad_request")
            fields[part.name] = raw.decode("utf-8", errors="replace").strip()
    if data is None:
        raise ApiError("file_missing")
    return Upload(bytes(data), filename, fields)


def _name(upload: Upload, extension: str) -> str:
    """The name typed, else the file's own name without its extension (the content decides that)."""
    given = upload.fields.get("name") or (upload.filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    given = "".join(c for c in given if c.isprintable() and c not in "<>").strip()[:200]
    stem = given.rsplit(".", 1)[0] if "." in given else given
    return (stem or "Document") + extension


@API.route("POST", "/dossiers/{id}/documents", summary="Ajouter un document (PDF, JPEG ou PNG, reconnu par son contenu)",
           tags=("documents",), access=Permission.HEALTH_WRITE, response=DocumentOut, status=201, errors=(409,), upload=True)
async def add_document(call: Call) -> DocumentOut:
    agent = agent_of(call.request)
    limit = agent.config.dossiers.max_upload_mib * 1024 * 1024
    upload = await read_upload(call.request, limit)
    kind = upload.fields.get("kind") or "autre"
    if kind not in documents.KINDS:
        raise ApiError("invalid_request", fields=[{"field": "kind", "message": "type de document inconnu"}], summary="type de document inconnu")
    return DocumentOut(**await save_upload(agent, call.request.match_info["id"], upload, kind, call.actor))


async def save_upload(agent: Agent, dossier_id: str, upload: Upload, kind: str, actor: Actor) -> dict:
    """An uploaded file, checked by its content, into the dossier (the kiosk's, or a participant's
    during the call)."""
    limit = agent.config.dossiers.max_upload_mib * 1024 * 1024
    loop = asyncio.get_running_loop()
    try:  # parsing a hostile PDF takes CPU: off the event loop
        inspected = await loop.run_in_executor(None, lambda: inspect(upload.data, max_bytes=limit))
    except RejectedDocument as exc:
        raise ApiError("document_refused", reason=exc.message) from exc
    blob = await loop.run_in_executor(None, agent.blobs.put, upload.data)
    return await agent.store.write(documents.add, dossier_id, blob, inspected, len(upload.data),
                                   _name(upload, suggested_extension(inspected.kind)), kind, actor)


@API.route("GET", "/dossiers/{id}/documents/{document}", summary="Télécharger un document", tags=("documents",),
           access=Permission.HEALTH_READ, content_type="application/octet-stream")
async def download_document(call: Call) -> web.Response:
    agent = agent_of(call.request)
    match = call.request.match_info
    row = await agent.store.write(documents.opened, match["id"], match["document"], call.actor, essential=True)
    data = await asyncio.get_running_loop().run_in_executor(None, agent.blobs.get, row["blob"])
    return file_response(data, row["mime"], row["name"])


@API.route("PATCH", "/dossiers/{id}/documents/{document}", summary="Renommer un document ou changer son type", tags=("documents",),
           access=Permission.HEALTH_WRITE, body=DocumentPatch, response=DocumentOut, errors=(409,))
async def describe_document(call: Call) -> DocumentOut:
    match = call.request.match_info
    changes = call.body.model_dump(exclude_unset=True, exclude_none=True)
    updated = await agent_of(call.request).store.write(documents.describe, match["id"], match["document"], changes, call.actor)
    return DocumentOut(**updated)


@API.route("POST", "/dossiers/{id}/documents/{document}/signature", summary="Apposer sa signature sur un document PDF",
           tags=("documents",), access=Permission.HEALTH_WRITE, response=DocumentOut, errors=(409,))
async def sign_document(call: Call) -> DocumentOut:
    agent = agent_of(call.request)
    match = call.request.match_info
    signature = await agent.store.read(documents.signature_of, call.actor.login)
    if signature is None:
        raise ApiError("no_signature")
    row = await agent.store.write(documents.opened, match["id"], match["document"], call.actor, essential=True)
    if row["mime"] != "application/pdf":
        raise ApiError("not_a_pdf")
    signer = call.session.principal.display_name
    settings = agent.dossier_settings
    when = datetime.now(UTC).astimezone(settings.zone).strftime("%d/%m/%Y à %H:%M")
    loop = asyncio.get_running_loop()
    stamped = await loop.run_in_executor(None, lambda: stamp(agent.blobs.get(row["blob"]), agent.blobs.get(signature), signer=signer, signed_at=when))
    blob = await loop.run_in_executor(None, agent.blobs.put, stamped)
    updated = await agent.store.write(documents.mark_signed, match["id"], match["document"], blob, len(stamped), signer, call.actor)
    return DocumentOut(**updated)


@API.route("PUT", "/me/signature", summary="Charger sa signature (photo ou scan, JPEG ou PNG)", tags=("documents",),
           access=SESSION, status=204, upload=True)
async def upload_signature(call: Call) -> None:
    agent = agent_of(call.request)
    upload = await read_upload(call.request, 5 * 1024 * 1024)
    loop = asyncio.get_running_loop()
    try:
        png = await loop.run_in_executor(None, prepare_signature, upload.data)
    except RejectedDocument as exc:
        raise ApiError("document_refused", reason=exc.message) from exc
    blob = await loop.run_in_executor(None, agent.blobs.put, png)
    await agent.store.write(documents.save_signature, call.actor.login, blob, call.actor)


@API.route("GET", "/me/signature", summary="Sa signature, telle qu'elle sera apposée (PNG ; 404 tant qu'aucune n'est chargée)",
           tags=("documents",), access=SESSION, content_type="image/png", errors=(404,))
async def read_signature(call: Call) -> web.Response:
    agent = agent_of(call.request)
    blob = await agent.store.read(documents.signature_of, call.actor.login)
    if blob is None:
        raise ApiError("not_found")
    return web.Response(body=await asyncio.get_running_loop().run_in_executor(None, agent.blobs.get, blob),
                        content_type="image/png", headers=NO_STORE)


@API.route("POST", "/dossiers/{id}/documents/{document}/send", summary="Envoyer un PDF au patient : lien par e-mail, code par SMS",
           tags=("documents",), access=Permission.HEALTH_WRITE, body=ShareIn, response=ShareOut, status=201, errors=(409,))
async def send_to_patient(call: Call) -> ShareOut:
    agent = agent_of(call.request)
    match = call.request.match_info
    settings = agent.dossier_settings
    shared = await agent.store.write(patient_share.share, match["id"], match["document"], call.body.email, call.body.mobile,
                                     call.actor, settings.public_url, settings.establishment,
                                     agent.config.dossiers.download_link_days, settings.zone, datetime.now(UTC))
    agent.deliveries_wake()
    return ShareOut(email=masked(shared.email), mobile=masked(shared.mobile), expires_at=iso(shared.expires_at))
