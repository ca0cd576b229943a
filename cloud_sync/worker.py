"""The sync worker: drains the outbox to the regional server, one entry at a time in the order the
changes were made, each as a transaction Bundle that is the same however often it is sent
(fhir_bundle.py), so that a retry after a cut link, a crash or a power cut creates nothing twice.

- 2xx: the entry is sent (the server's transaction-response is checked entry by entry).
- 412: a conflict, set aside for a person; never an overwrite (an update goes to where the server
  keeps the resource with the version the cart last wrote, If-Match: a change made there meanwhile
  is refused). 409 (a retry meeting its own first
  try still running on the server): tried again.
- other 4xx: refused by the server (its OperationOutcome kept), set aside for a person.
- 429, 5xx, no answer, a cut link: tried again later, waiting 5 s doubling up to
  `[sync] max_backoff_seconds` with jitter (or the server's Retry-After), and nothing after it is sent
  meanwhile (order matters: a vital before its resident would be refused).
- A kind the server does not receive yet stays on the cart (`local`).

Nothing is sent while `[sync] fhir_base_url` is empty; the outbox keeps filling.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from agent.clock import iso
from agent.config import SyncConfig
from agent.store import Store
from agent.store.blobs import BlobStore
from cloud_sync import queue
from cloud_sync.fhir_bundle import transaction, version_key
from cloud_sync.identifiers import CartIdentifiers
from cloud_sync.to_fhir import UPSERT, NotSent, writes_for

log = logging.getLogger("cloud_sync")

FIRST_BACKOFF = 5.0
BATCH = 50
FHIR_JSON = "application/fhir+json"


class SyncWorker:
    def __init__(self, store: Store, blobs: BlobStore, config: SyncConfig, http: aiohttp.ClientSession) -> None:
        self.store, self.blobs, self.config, self.http = store, blobs, config, http
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        ids = await self._identifiers()
        while True:
            wait = self.config.poll_seconds
            try:
                wait = await self.drain(ids)
            except Exception:  # a bug in one mapping must not end the sync for good
                log.exception("sync round failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _identifiers(self) -> CartIdentifiers:
        base = self.config.identifier_base or f"urn:telecart:cart:{await self.store.read(queue.cart_id)}"
        return CartIdentifiers(base)

    async def drain(self, ids: CartIdentifiers) -> float:
        """Send what is due; returns how long to wait before the next round."""
        if not self.config.fhir_base_url:
            return self.config.poll_seconds
        entries = await self.store.read(queue.due, iso(datetime.now(UTC)), BATCH)
        for entry in entries:
            try:
                writes = await self.store.read(writes_for, self.blobs, entry, ids)
            except NotSent:
                await self.store.write(queue.settle, entry.id, queue.LOCAL, iso(datetime.now(UTC)))
                continue
            keys = [version_key(w.resource) if w.how == UPSERT else None for w in writes]
            known = [await self.store.read(queue.version_of, k) if k else None for k in keys]
            if len(writes) == 1 and known[0] is not None:
                # An update of what the server already keeps: to its own address, naming the version
                # it replaces (If-Match), so a change made there meanwhile is refused (412), not lost.
                location, etag = known[0]
                resource = writes[0].resource.model_copy(update={"id": location.split("/", 1)[1]})  # an update names its target
                outcome, error, retry_after, answer = await self._send(resource.model_dump_json(exclude_none=True),
                                                                       method="PUT", path=location, if_match=etag)
                versions = {keys[0]: (location, answer)} if outcome == "sent" and answer else {}
            else:
                bundle = transaction((w.resource, w.how) for w in writes)
                outcome, error, retry_after, answer = await self._send(bundle.model_dump_json(exclude_none=True))
                versions = {k: v for k, v in zip(keys, _versions(answer), strict=False) if k and v}
            now = datetime.now(UTC)
            if outcome == "retry":
                delay = retry_after or self._backoff(entry.attempts)
                await self.store.write(queue.retry_later, entry.id, error or "", iso(now + timedelta(seconds=delay)))
                log.warning("sync: %s %s not sent (%s); next try in %.0f s", entry.entity, entry.entity_id, error, delay)
                return delay
            if outcome == "sent":
                await self.store.write(queue.settle_with_versions, entry.id, iso(now), versions)
            else:
                await self.store.write(queue.settle, entry.id, outcome, iso(now), error)
        return 0.0 if len(entries) == BATCH else self.config.poll_seconds

    def _backoff(self, attempts: int) -> float:
        ceiling = min(self.config.max_backoff_seconds, FIRST_BACKOFF * 2 ** attempts)
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter: many carts back on line at once do not retry together)

    async def _send(self, body: str, method: str = "POST", path: str = "", if_match: str | None = None) -> tuple[str, str | None, float | None, Any]:
        """(sent | conflict | refused | retry, the error in words, the server's Retry-After, its answer:
        the transaction-response's text, or for an update the new ETag)."""
        headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}
        if self.config.bearer_token:
            headers["Authorization"] = f"Bearer {self.config.bearer_token}"
        if if_match:
            headers["If-Match"] = if_match
        url = self.config.fhir_base_url.rstrip("/") + (f"/{path}" if path else "")
        try:
            async with self.http.request(method, url, data=body.encode(), headers=headers,
                                         timeout=aiohttp.ClientTimeout(total=self.config.timeout_seconds)) as reply:
                text = await reply.text()
                outcome = _outcome(reply.status, text, reply.headers.get("Retry-After"), transaction=not path)
                return (*outcome, reply.headers.get("ETag") if path else text)  # an update's answer: its new version
        except TimeoutError:
            return "retry", "le serveur ne répond pas", None, None
        except (aiohttp.ClientError, OSError) as error:
            log.info("sync: %r", error)
            return "retry", "serveur injoignable", None, None


def _outcome(status: int, text: str, retry_after: str | None, transaction: bool = True) -> tuple[str, str | None, float | None]:
    """What an answer means; a transaction's 2xx only when each of its entries succeeded."""
    if 200 <= status < 300:
        failed = _failed_entries(text) if transaction else None
        return ("sent", None, None) if not failed else ("refused", f"réponse du serveur : {failed}", None)
    said = _issue_text(text) or f"HTTP {status}"
    if status == 412:  # the resource changed on the server since: a person decides, never an overwrite
        return "conflict", f"conflit sur le serveur : {said}", None
    if status == 409:  # HAPI's answer to two conditional creates at once (a retry meeting its first try): try again
        return "retry", f"le serveur traite encore un envoi précédent : {said}", None
    if status == 429 or status >= 500:
        return "retry", f"serveur indisponible (HTTP {status})", _retry_after(retry_after)
    if status in (401, 403):
        return "retry", f"accès refusé par le serveur (HTTP {status}) : vérifiez l'identification du chariot", None
    return "refused", f"refusé par le serveur (HTTP {status}) : {said}", None


def _retry_after(header: str | None) -> float | None:
    """Retry-After in seconds, or as an HTTP date (RFC 9110 §10.2.3); None when absent or unreadable."""
    if not header:
        return None
    if header.strip().isdigit():
        return float(header)
    with contextlib.suppress(TypeError, ValueError):
        return max(0.0, (parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds())
    return None


def _versions(text: str | None) -> list[tuple[str, str] | None]:
    """Where the server keeps each entry of the transaction and its version, in order."""
    found: list[tuple[str, str] | None] = []
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        for entry in json.loads(text or "").get("entry", []):
            response = entry.get("response", {})
            location, etag = response.get("location", ""), response.get("etag")
            found.append((_type_and_id(location), etag) if location and etag else None)
    return found


def _type_and_id(location: str) -> str:
    """"Encounter/abc" from "Encounter/abc/_history/1" or "http://…/fhir/Encounter/abc/_history/1"."""
    parts = location.rstrip("/").split("/")
    end = parts.index("_history") if "_history" in parts else len(parts)
    return "/".join(parts[end - 2:end])


def _failed_entries(text: str) -> str | None:
    """A transaction-response whose entries are not all 2xx (a server that does not roll back)."""
    try:
        bundle: dict[str, Any] = json.loads(text)
    except ValueError:
        return "réponse illisible"
    statuses = [e.get("response", {}).get("status", "") for e in bundle.get("entry", [])]
    return ", ".join(s for s in statuses if not s.startswith("2")) or None


def _issue_text(text: str) -> str | None:
    with contextlib.suppress(ValueError, AttributeError, IndexError, KeyError):
        outcome = json.loads(text)
        issue = outcome["issue"][0]
        return issue.get("diagnostics") or issue.get("details", {}).get("text")
    return None
