"""Large documents uploaded so that a cut link resumes where it stopped: the tus 1.0 protocol
(https://tus.io/protocols/resumable-upload, core and creation) to the region's upload endpoint,
`[sync] upload_url`, beside its FHIR server. FHIR's REST API has no way to resume a body at a byte
offset; tus is the open protocol made for it (tusd, and storage gateways, speak it).

- The upload is created once (POST, its length and name), and its address kept in the cart's
  store at once: after a cut link, a reboot or a power cut, the next try asks the server how much
  it holds (HEAD, `Upload-Offset`) and sends the rest (PATCH from that offset), by chunks.
- Finished, its address goes in the DocumentReference (`attachment.url`, with the size and SHA-1 the
  region checks it by); the document's entry is then sent as any other (to_fhir.py).
- An upload the server no longer knows (expired, 404/410) is made again from the start; a file
  the server refuses (413, 4xx) is set aside for a person with the reason, in French.

Written on the worker's own HTTP session (its mutual TLS, the region's authority, its timeouts and
SMART token, fhir_client.py) rather than with tuspy: tuspy's asynchronous uploader opens a session
per chunk that knows neither a private authority nor a timeout, and asks the offset with a blocking
`requests` call in the middle of the event loop.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from yarl import URL

from agent.store import Store
from cloud_sync import queue
from cloud_sync.fhir_client import REFUSED, RETRY, SENT, Answer, FhirClient, parse_retry_after
from cloud_sync.smart_auth import AuthError

log = logging.getLogger("cloud_sync")

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK_BYTES = 1024 * 1024  # a server that keeps nothing of a cut PATCH loses one chunk at most


class UploadFirst(Exception):
    """The document must be uploaded before its DocumentReference can name it (raised by to_fhir)."""

    def __init__(self, entry_id: int, path: Path, size: int, mime: str, name: str) -> None:
        super().__init__(f"document of entry {entry_id} to upload first ({size} bytes)")
        self.entry_id, self.path, self.size, self.mime, self.name = entry_id, path, size, mime, name


class _Stop(Exception):
    """The upload stops for this round with this answer."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.error)
        self.answer = answer


class _Forgotten(Exception):
    """The server no longer knows the upload."""


@dataclass
class ResumableUploads:
    client: FhirClient  # its session, credentials and timeouts
    endpoint: str       # `[sync] upload_url`

    async def upload(self, store: Store, document: UploadFirst) -> Answer:
        """Sent whole (SENT: the address is recorded as finished), or how far it got and why not."""
        sent: int | None = 0
        try:
            url = await store.read(queue.upload_of, document.entry_id)
            try:
                sent = await self._offset(url) if url else None
            except _Forgotten:
                log.info("sync: the upload server forgot %s; uploading again from the start", url)
                sent = None
            if sent is None:
                url = await self._create(document)
                await store.write(queue.note_upload, document.entry_id, url)
                sent = 0
            with document.path.open("rb") as file:
                while sent < document.size:
                    file.seek(sent)
                    sent = await self._patch(url, sent, file.read(CHUNK_BYTES))
        except _Forgotten:
            await store.write(queue.forget_upload, document.entry_id)
            return Answer(RETRY, "le serveur de fichiers a oublié l'envoi en cours : il reprendra du début", retry_after=0.1)
        except _Stop as stop:
            return stop.answer if stop.answer.outcome != RETRY else Answer(
                RETRY, f"{stop.answer.error} ; fichier de {_megabytes(document.size)} envoyé à {_percent(sent, document.size)}, "
                       "la suite partira de là", stop.answer.retry_after, status=stop.answer.status)  # never its name: the technician reads this
        await store.write(queue.upload_finished, document.entry_id)
        return Answer(SENT)

    async def _create(self, document: UploadFirst) -> str:
        metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode('ascii')}" for k, v in (("filename", document.name), ("filetype", document.mime)))
        reply = await self._request("POST", self.endpoint, {**TUS, "Upload-Length": str(document.size), "Upload-Metadata": metadata})
        location = reply.headers.get("Location")
        if reply.status != 201 or not location:
            raise _Stop(_refused_or_retry(reply, "création de l'envoi"))
        return str(reply.url.join(URL(location)))

    async def _offset(self, url: str) -> int:
        reply = await self._request("HEAD", url, {**TUS, "Cache-Control": "no-store"})
        if reply.status in (404, 410):
            raise _Forgotten
        offset = reply.headers.get("Upload-Offset", "")
        if not 200 <= reply.status < 300 or not offset.isdigit():
            raise _Stop(_refused_or_retry(reply, "reprise de l'envoi"))
        return int(offset)

    async def _patch(self, url: str, offset: int, chunk: bytes) -> int:
        """The chunk at `offset`; the offset the server now holds."""
        reply = await self._request("PATCH", url, {**TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}, chunk)
        if reply.status in (404, 410):
            raise _Forgotten
        if reply.status == 409:  # not where the server is (an earlier PATCH went further than the cart heard)
            return await self._offset(url)
        held = reply.headers.get("Upload-Offset", "")
        if reply.status != 204 or not held.isdigit() or int(held) <= offset:
            raise _Stop(_refused_or_retry(reply, "envoi du fichier"))
        return int(held)

    async def _request(self, method: str, url: str, headers: dict[str, str], data: bytes | None = None) -> aiohttp.ClientResponse:
        try:
            reply, _ = await self.client.exchange(method, url, headers, data)
        except AuthError as error:
            raise _Stop(Answer(RETRY, str(error))) from error
        except TimeoutError as error:
            raise _Stop(Answer(RETRY, "le serveur de fichiers ne répond pas")) from error
        except (aiohttp.ClientError, OSError) as error:
            log.info("sync upload: %r", error)
            raise _Stop(Answer(RETRY, "serveur de fichiers injoignable ou liaison coupée")) from error
        return reply


def _refused_or_retry(reply: aiohttp.ClientResponse, doing: str) -> Answer:
    status = reply.status
    if status == 413:
        return Answer(REFUSED, "fichier trop gros pour le serveur de fichiers régional (HTTP 413) : à transmettre autrement", status=status)
    if status == 429 or status >= 500:
        return Answer(RETRY, f"serveur de fichiers indisponible (HTTP {status}, {doing})", parse_retry_after(reply.headers.get("Retry-After")), status=status)
    if status in (401, 403):
        return Answer(RETRY, f"accès refusé par le serveur de fichiers (HTTP {status}) : vérifiez l'identification du chariot", status=status)
    if 400 <= status < 500:
        return Answer(REFUSED, f"refusé par le serveur de fichiers (HTTP {status}, {doing})", status=status)
    return Answer(RETRY, f"réponse inattendue du serveur de fichiers (HTTP {status}, {doing}) : un portail Wi-Fi ou un relais s'interpose ?", status=status)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} Mo".replace(".", ",")


def _percent(sent: int | None, size: int) -> str:
    return f"{100 * (sent or 0) // max(size, 1)} %"
