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
- The cart proves itself as `[sync] auth` says (smart_auth.py): with SMART, a 401 drops the access
  token and the entry is tried once more at once with a new one; no token to be had (the
  authorisation server unreachable or refusing the cart) is a retry like a cut link.

Nothing is sent while `[sync] fhir_base_url` is empty; the outbox keeps filling.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from agent import audit
from agent.clock import iso
from agent.config import SyncConfig
from agent.dossiers import retention
from agent.store import Store, files
from agent.store.blobs import BlobStore
from cloud_sync import pull, queue
from cloud_sync.fhir_audit import audit_head
from cloud_sync.fhir_bundle import CREATE, version_key
from cloud_sync.identifiers import CartIdentifiers
from cloud_sync.plan import TRANSACTION, requests_for
from cloud_sync.pull import PullError
from cloud_sync.smart_auth import Auth, AuthError, static_auth
from cloud_sync.to_fhir import NotSent, Write, writes_for

log = logging.getLogger("cloud_sync")

FIRST_BACKOFF = 5.0
BATCH = 50
FHIR_JSON = "application/fhir+json"


class SyncWorker:
    def __init__(self, store: Store, blobs: BlobStore, config: SyncConfig, http: aiohttp.ClientSession, auth: Auth | None = None,
                 max_document_bytes: int = 20 * 1024 * 1024) -> None:
        self.store, self.blobs, self.config, self.http = store, blobs, config, http
        self.max_document_bytes = max_document_bytes  # what the region sends back is held to the uploads' limit
        self.auth = auth or static_auth(config)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        ids = await self._identifiers()
        pulled = float("-inf")  # monotonic: a clock set back or forward changes nothing here
        while True:
            wait = self.config.poll_seconds
            try:
                wait = await self.drain(ids)
                if time.monotonic() - pulled >= self.config.pull_seconds:
                    pulled = time.monotonic()
                    if self.config.fhir_base_url:
                        await self.pull(ids)
                        await self.report_audit_head(ids)
                    await self.purge_confirmed(ids)
            except Exception:  # a bug in one mapping must not end the sync for good
                log.exception("sync round failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(wait, self.config.pull_seconds))

    async def _identifiers(self) -> CartIdentifiers:
        cart_id = await self.store.read(queue.cart_id)
        return CartIdentifiers(self.config.identifier_base or f"urn:telecart:cart:{cart_id}", cart_id)

    async def pull(self, ids: CartIdentifiers) -> None:
        """What the region wrote for the dossiers the cart keeps (pull.py); a server that cannot be
        asked now is asked at the next round."""
        try:
            taken = await pull.pull(self.store, self.blobs, self._fetch, ids, self.max_document_bytes)
        except PullError as error:
            log.info("sync: nothing pulled this round (%s)", error)
            return
        if taken:
            log.info("sync: %d item(s) received from the regional server", taken)

    async def report_audit_head(self, ids: CartIdentifiers) -> None:
        """The audit trail's head, when it moved since the server last confirmed one (fhir_audit.py)."""
        head = await self.store.read(audit.head)
        if head is None or head.seq <= await self.store.read(queue.audit_head_reported):
            return
        event = audit_head(ids, head.seq, head.at, head.hash)
        outcome, error, _, _ = await self._send(event.model_dump_json(exclude_none=True), "PUT", f"AuditEvent/{event.id}")
        if outcome == "sent":
            await self.store.write(queue.note_audit_head_reported, head.seq)
        else:
            log.info("sync: audit head not reported (%s)", error)

    async def purge_confirmed(self, ids: CartIdentifiers) -> None:
        """Ended dossiers the server confirmed whole, `retention_days` after (agent/dossiers/retention.py)."""
        cutoff = iso(datetime.now(UTC) - timedelta(days=self.config.retention_days))
        for dossier_id in await self.store.read(retention.purgeable, cutoff):
            done = await self.store.write(retention.purge, dossier_id, ids.system("dossier"), ids.system("fiche"),
                                          self.config.retention_days, essential=True)
            for blob in done.blobs:  # once the rows are gone for good: a rolled-back purge keeps its files
                await self.store.write(files.remove_unused, self.blobs, blob, essential=True)
            log.info("sync: dossier %s purged from the cart", dossier_id[:8])

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
            outcome, error, retry_after = await self._send_entry(entry, writes, ids)
            now = datetime.now(UTC)
            if outcome == "retry":
                delay = retry_after or self._backoff(entry.attempts)
                await self.store.write(queue.retry_later, entry.id, error or "", iso(now + timedelta(seconds=delay)))
                log.warning("sync: %s %s not sent (%s); next try in %.0f s", entry.entity, entry.entity_id, error, delay)
                return delay
            await self.store.write(queue.settle, entry.id, outcome, iso(now), error)
        return 0.0 if len(entries) == BATCH else self.config.poll_seconds

    async def _send_entry(self, entry: queue.Entry, writes: list[Write], ids: CartIdentifiers) -> tuple[str, str | None, float | None]:
        """The entry's requests in order (plan.py), each version the server confirms noted at once;
        the first that is not sent decides the entry's outcome."""
        keys = {version_key(w.resource) for w in writes if w.how != CREATE and getattr(w.resource, "identifier", None)}
        known = {k: v for k in keys if (v := await self.store.read(queue.version_of, k))}
        for request in requests_for(entry, writes, known, ids):
            outcome, error, retry_after, answer = await self._send(request.body, request.method, request.path, request.if_match)
            if outcome != "sent":
                return outcome, error, retry_after
            if request.path == TRANSACTION:
                versions = {k: v for k, v in zip(request.keys, _versions(answer), strict=False) if k and v}
            else:
                versions = {request.keys[0]: (request.path, answer)} if answer else {}
            if versions:
                await self.store.write(queue.record_versions, iso(datetime.now(UTC)), versions)
        return "sent", None, None

    def _backoff(self, attempts: int) -> float:
        ceiling = min(self.config.max_backoff_seconds, FIRST_BACKOFF * 2 ** attempts)
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter: many carts back on line at once do not retry together)

    async def _send(self, body: str, method: str = "POST", path: str = "", if_match: str | None = None) -> tuple[str, str | None, float | None, Any]:
        """(sent | conflict | refused | retry, the error in words, the server's Retry-After, its answer:
        the transaction-response's text, or for an update the new ETag)."""
        headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}
        if if_match:
            headers["If-Match"] = if_match
        url = self.config.fhir_base_url.rstrip("/") + (f"/{path}" if path else "")
        try:
            renewed = False
            while True:
                headers.update(await self.auth.headers())
                async with self.http.request(method, url, data=body.encode(), headers=headers,
                                             timeout=aiohttp.ClientTimeout(total=self.config.timeout_seconds)) as reply:
                    if reply.status == 401 and not renewed and self.auth.forget():
                        renewed = True  # an access token the server no longer takes: once more with a new one
                        continue
                    text = await reply.text()
                    outcome = _outcome(reply.status, text, reply.headers.get("Retry-After"), transaction=not path)
                    return (*outcome, reply.headers.get("ETag") if path else text)  # an update's answer: its new version
        except AuthError as error:
            return "retry", str(error), None, None
        except TimeoutError:
            return "retry", "le serveur ne répond pas", None, None
        except (aiohttp.ClientError, OSError) as error:
            log.info("sync: %r", error)
            return "retry", "serveur injoignable", None, None


    async def _fetch(self, where: str, query: dict[str, str] | None) -> dict[str, Any]:
        """A search or read on the server (a path under the FHIR base, or a URL the server gave
        that lies under it: a `next` link, a Binary): its JSON, or PullError."""
        base = self.config.fhir_base_url.rstrip("/")
        url = where if where.startswith(base + "/") else f"{base}/{where.lstrip('/')}"
        if "://" in where and not where.startswith(base + "/"):
            raise PullError(f"adresse hors du serveur régional refusée : {where[:80]}")  # the cart's token goes nowhere else
        try:
            for renewed in (False, True):
                headers = {"Accept": FHIR_JSON, **await self.auth.headers()}
                async with self.http.get(url, params=query, headers=headers,
                                         timeout=aiohttp.ClientTimeout(total=self.config.timeout_seconds)) as reply:
                    if reply.status == 401 and not renewed and self.auth.forget():
                        continue
                    if reply.status != 200:
                        raise PullError(f"HTTP {reply.status}")
                    answer = await reply.json(content_type=None)
                    if not isinstance(answer, dict):
                        raise PullError("réponse illisible")
                    return answer
        except AuthError as error:
            raise PullError(str(error)) from error
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as error:
            raise PullError(repr(error)) from error
        raise PullError("HTTP 401")


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
