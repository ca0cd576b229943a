"""Files sent to the agent as multipart forms: read in a stream, cut off at a limit, and named as
the sender meant (the content, not the name, decides what a file is: agent/dossiers/intake/)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from agent.api.context import Services
from agent.api.errors import ApiError
from agent.audit import Actor
from agent.dossiers.intake import RejectedDocument
from agent.dossiers.intake.receive import receive

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


def upload_stem(upload: Upload) -> str:
    """The name typed, else the file's own name, without its extension: the content decides that."""
    given = upload.fields.get("name") or (upload.filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    given = "".join(c for c in given if c.isprintable() and c not in "<>").strip()[:200]
    stem = given.rsplit(".", 1)[0] if "." in given else given
    return stem or "Document"


async def save_upload(services: Services, dossier_id: str, upload: Upload, kind: str, actor: Actor) -> dict:
    """An uploaded file, checked by its content, into the dossier (the kiosk's, or a participant's
    during the call)."""
    try:
        return await receive(services.store, services.blobs, dossier_id, upload.data, upload_stem(upload), kind, actor,
                             services.config.dossiers.max_upload_mib * 1024 * 1024)
    except RejectedDocument as exc:
        raise ApiError("document_refused", reason=exc.message) from exc
