"""What the region wrote for the cart's dossiers, brought back: for each dossier the server has,
the DocumentReferences whose `context.encounter` is its Encounter and that the cart did not send
(agent/dossiers/from_region.py keeps them):

- `text/plain` (the expert's opinion typed on the regional platform): a note shown in the dossier;
- a PDF, JPEG or PNG (the signed report, a prescription, a letter): a document of the dossier,
  checked like any upload (agent/dossiers/intake/) and refused, with the reason shown, when it is
  not acceptable; its SHA-1 checked when the server gives one.

Bytes come inline (`attachment.data`) or from the server's Binary that `attachment.url` names,
fetched only from the same FHIR base: the cart's token goes nowhere else. Each item is taken once
per version (`meta.versionId`). Plain searches and reads only: any FHIR server answers them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from agent.dossiers import from_region
from agent.dossiers.from_region import RegionItem
from agent.dossiers.intake.content import RejectedDocument, inspect, suggested_extension
from agent.store import Store
from agent.store.blobs import BlobStore
from agent.store.files import write_with_file
from cloud_sync.fhir_client import PullError
from cloud_sync.identifiers import CartIdentifiers

log = logging.getLogger("cloud_sync")

# (path or absolute URL, query) → the JSON answer; raises PullError when there is none
Fetch = Callable[[str, dict[str, str] | None], Awaitable[dict[str, Any]]]
MAX_NOTE_BYTES = 64 * 1024
MAX_PAGES = 5  # a dossier receives a handful of documents, not hundreds
# LOINC document types the region uses, as the cart's own kinds
KIND_OF_TYPE = {"11488-4": "compte_rendu", "34109-9": "compte_rendu", "57833-6": "ordonnance", "11502-2": "resultat", "34133-9": "courrier"}


async def pull(store: Store, blobs: BlobStore, fetch: Fetch, ids: CartIdentifiers, max_bytes: int) -> tuple[int, set[str]]:
    """One round over every dossier the server has: how many items were taken, and the residents
    whose dossier the server no longer has (it lost its data: the worker sends them again)."""
    taken, lost = 0, set()
    for dossier_id, encounter, open_to_more in await store.read(from_region.dossiers_on_server, ids.system("dossier")):
        try:
            await fetch(encounter, None)  # still there? (a server restored empty has forgotten it)
        except PullError as error:
            if error.status not in (404, 410):
                raise
            lost.add(await store.read(from_region.patient_of, dossier_id))
            continue
        if open_to_more:
            taken += await pull_dossier(store, blobs, fetch, ids, dossier_id, encounter, max_bytes)
    return taken, lost


async def pull_dossier(store: Store, blobs: BlobStore, fetch: Fetch, ids: CartIdentifiers, dossier_id: str, encounter: str,
                       max_bytes: int) -> int:
    seen = await store.read(from_region.seen, dossier_id)
    taken = 0
    for resource in await _search(fetch, "DocumentReference", {"encounter": encounter, "_count": "50"}):
        ref = f"DocumentReference/{resource.get('id')}"
        version = str(resource.get("meta", {}).get("versionId") or resource.get("meta", {}).get("lastUpdated") or "1")
        if ids.owns(resource.get("identifier")) or not _about(resource, encounter) or seen.get(ref) == version:
            continue  # the cart's own, another dossier's (a server ignoring the search parameter), or already taken
        await _take(store, blobs, fetch, _item(resource, ref, version, dossier_id), resource, max_bytes)
        taken += 1
    return taken


async def _search(fetch: Fetch, kind: str, query: dict[str, str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page: dict[str, Any] | None = await fetch(kind, query)
    for _ in range(MAX_PAGES):
        if not page:
            break
        found += [e["resource"] for e in page.get("entry", []) if isinstance(e.get("resource"), dict)
                  and e["resource"].get("resourceType") == kind and e.get("search", {}).get("mode", "match") == "match"]
        following = next((link.get("url") for link in page.get("link", []) if link.get("relation") == "next"), None)
        page = await fetch(following, None) if following else None
    return found


def _about(resource: dict[str, Any], encounter: str) -> bool:
    refs = [e.get("reference", "") for e in resource.get("context", {}).get("encounter", [])]
    return any(r == encounter or r.endswith(f"/{encounter}") for r in refs)


def _item(resource: dict[str, Any], ref: str, version: str, dossier_id: str) -> RegionItem:
    attachment = (resource.get("content") or [{}])[0].get("attachment", {})
    title = attachment.get("title") or resource.get("description") or resource.get("type", {}).get("text") or "Document du serveur régional"
    authors = [a.get("display") for a in resource.get("author", []) + [resource.get("authenticator") or {}] if a.get("display")]
    return RegionItem(ref, version, dossier_id, str(title)[:200], authors[0] if authors else None, resource.get("date"))


async def _take(store: Store, blobs: BlobStore, fetch: Fetch, item: RegionItem, resource: dict[str, Any], max_bytes: int) -> None:
    attachment = (resource.get("content") or [{}])[0].get("attachment", {})
    try:
        data = await _bytes(fetch, attachment, max_bytes)
        mime = str(attachment.get("contentType", "")).split(";")[0].strip().lower()
        if mime == "text/plain":
            if len(data) > MAX_NOTE_BYTES:
                raise RejectedDocument("too_large", "Le texte reçu est trop long pour être affiché sur le chariot.")
            await store.write(from_region.receive_note, item, data.decode("utf-8", errors="replace").strip())
            return
        inspected = await asyncio.get_running_loop().run_in_executor(None, lambda: inspect(data, max_bytes=max_bytes))
        kind = "photo" if inspected.mime.startswith("image/") else _kind(resource)
        name = _stem(item.title) + suggested_extension(inspected.kind)
        await write_with_file(store, blobs, data, lambda db, blob: from_region.receive_document(db, item, blob, inspected, len(data), name, kind))
    except RejectedDocument as refused:
        log.warning("sync: %s refused: %s", item.region_ref, refused.code)
        await store.write(from_region.refuse, item, refused.message)


async def _bytes(fetch: Fetch, attachment: dict[str, Any], max_bytes: int) -> bytes:
    encoded = attachment.get("data")
    if encoded is None and attachment.get("url"):
        binary = await fetch(str(attachment["url"]), None)  # PullError for another host: never followed
        encoded = binary.get("data")
    if not isinstance(encoded, str):
        raise RejectedDocument("empty", "Le serveur régional n'a pas joint le contenu du document.")
    if len(encoded) > (max_bytes * 4) // 3 + 4:
        raise RejectedDocument("too_large", "Le document reçu dépasse la taille qu'accepte le chariot.")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise RejectedDocument("unreadable", "Le contenu reçu du serveur régional est illisible.") from error
    expected = attachment.get("hash")
    if expected and base64.b64encode(hashlib.sha1(data).digest()).decode() != expected:  # noqa: S324 (FHIR's choice)
        raise RejectedDocument("altered", "Le contenu reçu ne correspond pas à son empreinte : il a été altéré en chemin.")
    return data


def _kind(resource: dict[str, Any]) -> str:
    codes = [c.get("code") for c in resource.get("type", {}).get("coding", [])]
    return next((KIND_OF_TYPE[c] for c in codes if c in KIND_OF_TYPE), "courrier")


def _stem(title: str) -> str:
    cleaned = "".join(c for c in title if c.isprintable() and c not in '<>/\\:"|?*').strip()
    return (cleaned.rsplit(".", 1)[0] if "." in cleaned[-6:] else cleaned)[:120] or "Document du serveur régional"
