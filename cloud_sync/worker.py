"""The sync worker: drains the outbox to the regional server, one entry at a time in the order the
changes were made, each as requests that are the same however often they are sent (plan.py), so
that a retry after a cut link, a crash or a power cut creates nothing twice. What each answer
means: fhir_client.py.

- A retry waits 5 s doubling up to `[sync] max_backoff_seconds`, with jitter, or the server's
  Retry-After (never longer), and nothing after it is sent meanwhile (order matters: a vital before
  its resident would be refused). A wait set by a clock that was ahead is over once it is set back.
- A conflict on an update (412) is first checked against the server: the cart's own write whose
  answer was lost (a cut link, a SIGKILL) is taken as sent; a change made by someone else is set
  aside for a person, never overwritten.
- A resource gone from the server (404/410 on an update, 412 where nothing is, a reference to it
  that finds nothing): the worker reads where the server kept the resident and their dossiers; if
  any is gone, the server lost them, and everything the cart still holds of that resident is sent
  again (idempotent writes: nothing doubles).
- A document larger than `[sync] inline_document_bytes`, when the region has a resumable upload
  endpoint (`[sync] upload_url`), is uploaded first; a cut link resumes it where it stopped
  (resumable_upload.py), and its entry waits, in order, until the file is whole.
- A kind the server does not receive stays on the cart (`local`).
- What became of the entries is written to the store together, one transaction (one fsync) for
  many entries, at most `SETTLE_SECONDS` after the server confirmed the first of them, at the end of
  each round (before the worker waits or reads the queue again), and before what reads or changes
  it (an upload, a resident the server lost); until then the versions the server confirmed are
  read from memory, so each entry makes the same requests as if the earlier ones had been written
  at once. Only what the server confirmed waits so: a crash before it is written sends those
  entries again, which creates nothing twice.
- A run of leaves (vitals, documents, consents: created once, referred to by nothing the cart
  sends later) goes in one transaction, a round trip for the run rather than for each; if the
  server does not confirm it whole, they go one by one, each with its own outcome.

Every `[sync] pull_seconds` it also reads back what the region wrote (pull.py), reports the audit
trail's head (fhir_audit.py) and purges the ended dossiers the server confirmed whole
(agent/dossiers/retention.py). Nothing is sent while `[sync] fhir_base_url` is empty.

The FHIR side (fhir.resources' models and the mappings built on them: plan.py, to_fhir.py,
fhir_audit.py; about 13 MiB and a fifth of the agent's imports) is not imported with this module
but before the first entry is built or the audit head reported, once, in a worker thread
(`load_fhir`), so the loop goes on serving meanwhile; the functions using it import it where they
use it (by then a lookup in sys.modules). A cart with nothing to send never loads it
(docs/architecture.md, "What loads when"; tests/architecture/test_start_weight.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from sqlite_utils import Database

from agent import audit, first_use
from agent.clock import iso
from agent.config import SyncConfig
from agent.dossiers import retention
from agent.store import Store, files
from agent.store.blobs import BlobStore
from cloud_sync import pull, queue
from cloud_sync.fhir_client import CONFLICT, GONE, REFUSED, RETRY, SENT, Answer, FhirClient, PullError, versions
from cloud_sync.identifiers import CartIdentifiers
from cloud_sync.resumable_upload import ResumableUploads, UploadFirst
from cloud_sync.smart_auth import Auth, static_auth

if TYPE_CHECKING:
    from fhir.resources.R4B.resource import Resource

    from cloud_sync.plan import Known, Request
    from cloud_sync.to_fhir import Write

log = logging.getLogger("cloud_sync")

FIRST_BACKOFF = 5.0
BATCH = 50
# Created once and never referred to by another change: a run of them can share one transaction
# (a change that others refer to could not: servers resolve conditional references before the
# transaction's entries run).
LEAVES = frozenset({("vital", "create"), ("consent", "create"), ("document", "create"), ("document", "sign")})
MERGED_BYTES = 2 * 1024 * 1024
# Outcomes confirmed by the server wait at most this long to be written together: on loopback about
# fifty entries share one fsync; on a real link, where a request takes longer, fewer.
SETTLE_SECONDS = 1.0
Confirmed = dict[str, tuple[str, str, "str | None"]]  # version key -> where the server keeps it, its version, the digest written
LOST = "le serveur régional avait perdu ce résident : tout ce que le chariot en garde lui est renvoyé"
# The FHIR side, imported by `load_fhir` (the module's docstring); to_fhir imports every mapping.
FHIR_SIDE = ("fhir.resources.R4B", "cloud_sync.plan", "cloud_sync.to_fhir", "cloud_sync.fhir_audit")


async def load_fhir() -> None:
    """The FHIR side imported in a worker thread (a few tenths of a second), once: what uses it
    then finds it in sys.modules instead of importing it on the loop or on the store's thread."""
    await first_use.load(*FHIR_SIDE)


class Unwritten:
    """What became of entries, and the versions the server confirmed for them, not yet written to
    the store (see the module's docstring): written together by `SyncWorker._write_outcomes`."""

    def __init__(self) -> None:
        self.outcomes: list[queue.Outcome] = []
        self.versions: dict[str, queue.Kept] = {}  # as Confirmed, and when
        self.since: float | None = None  # monotonic: when the oldest of them was confirmed

    def add(self, entry_id: int, state: str, at: str, error: str | None = None, confirmed: Confirmed | None = None) -> None:
        self.outcomes.append(queue.Outcome(entry_id, state, at, error))
        self.note(at, confirmed or {})

    def note(self, at: str, confirmed: Confirmed) -> None:
        """Versions the server confirmed (also half-way through an entry: its retry names them)."""
        self.versions.update({key: (*kept, at) for key, kept in confirmed.items()})
        if self.since is None:
            self.since = time.monotonic()

    def known(self, keys: set[str]) -> dict[str, Known]:
        """The versions of `keys` confirmed since the store was last written: newer than its own."""
        return {key: kept[:3] for key, kept in self.versions.items() if key in keys}

    def due(self) -> bool:
        return self.since is not None and time.monotonic() - self.since >= SETTLE_SECONDS

    def take(self) -> tuple[list[queue.Outcome], dict[str, queue.Kept]]:
        taken = self.outcomes, self.versions
        self.outcomes, self.versions, self.since = [], {}, None
        return taken


class SyncWorker:
    def __init__(self, store: Store, blobs: BlobStore, config: SyncConfig, http: aiohttp.ClientSession, auth: Auth | None = None,
                 max_document_bytes: int = 20 * 1024 * 1024) -> None:
        self.store, self.blobs, self.config = store, blobs, config
        self.client = FhirClient(http, config, auth or static_auth(config))
        self.uploads = ResumableUploads(self.client, config.upload_url) if config.upload_url else None
        self.inline_max = config.inline_document_bytes if config.upload_url else None  # larger documents are uploaded first
        self.max_document_bytes = max_document_bytes  # what the region sends back is held to the uploads' limit
        self._wake = asyncio.Event()
        self._unwritten = Unwritten()  # never outlives a drain: the next one reads the queue again

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
                    await self.purge_confirmed()
            except Exception:  # a bug in one mapping must not end the sync for good
                log.exception("sync round failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):  # not wait_for: it may drop the stop's cancellation (agent/notify/queue.py)
                async with asyncio.timeout(min(wait, self.config.pull_seconds)):
                    await self._wake.wait()

    async def _identifiers(self) -> CartIdentifiers:
        cart_id = await self.store.read(queue.cart_id)
        return CartIdentifiers(self.config.identifier_base or f"urn:telecart:cart:{cart_id}", cart_id)

    async def pull(self, ids: CartIdentifiers) -> None:
        """What the region wrote for the dossiers the cart keeps (pull.py); a server that cannot be
        asked now is asked at the next round; a dossier the server lost is sent again."""
        try:
            taken, lost = await pull.pull(self.store, self.blobs, self.client.fetch, ids, self.max_document_bytes)
        except PullError as error:
            log.info("sync: nothing pulled this round (%s)", error)
            return
        if taken:
            log.info("sync: %d item(s) received from the regional server", taken)
        for patient_id in lost:
            resent = await self.store.write(queue.resend_patient, patient_id)
            log.warning("sync: the server lost a resident's dossier; %d change(s) sent again", resent)
            self.wake()

    async def report_audit_head(self, ids: CartIdentifiers) -> None:
        """The audit trail's head, when it moved since the server last confirmed one (fhir_audit.py)."""
        head = await self.store.read(audit.head)
        if head is None or head.seq <= await self.store.read(queue.audit_head_reported):
            return
        await load_fhir()
        from cloud_sync.fhir_audit import audit_head

        event = audit_head(ids, head.seq, head.at, head.hash)
        answer = await self.client.send(event.model_dump_json(exclude_none=True), "PUT", f"AuditEvent/{event.id}")
        if answer.outcome == SENT:
            await self.store.write(queue.note_audit_head_reported, head.seq)
        else:
            log.info("sync: audit head not reported (%s)", answer.error)

    async def purge_confirmed(self) -> None:
        """Ended dossiers the server confirmed whole, `retention_days` after (agent/dossiers/retention.py)."""
        cutoff = iso(datetime.now(UTC) - timedelta(days=self.config.retention_days))
        for dossier_id in await self.store.read(retention.purgeable, cutoff):
            done = await self.store.write(retention.purge, dossier_id, self.config.retention_days, essential=True)
            for blob in done.blobs:  # once the rows are gone for good: a rolled-back purge keeps its files
                await self.store.write(files.remove_unused, self.blobs, blob, essential=True)
            log.info("sync: dossier %s purged from the cart", dossier_id[:8])

    async def drain(self, ids: CartIdentifiers) -> float:
        """Send what is due; returns how long to wait before the next round."""
        if not self.config.fhir_base_url:
            return self.config.poll_seconds
        entries = await self.store.read(queue.due, iso(datetime.now(UTC)), BATCH, self.config.max_backoff_seconds)
        if entries:
            await load_fhir()
        try:
            return await self._send_due(entries, ids)
        finally:  # also when cancelled (the agent stopping) or a mapping failed: what the server confirmed is kept
            await self._write_outcomes()

    async def _send_due(self, entries: list[queue.Entry], ids: CartIdentifiers) -> float:
        from cloud_sync.to_fhir import NotSent

        at = 0
        while at < len(entries):
            if self._unwritten.due():
                await self._write_outcomes()
            if together := await self._send_leaves_together(entries[at:], ids):
                at += together
                continue
            entry = entries[at]
            at += 1
            try:
                prepared = await self._prepare(entry, ids)
            except NotSent:
                self._unwritten.add(entry.id, queue.LOCAL, iso(datetime.now(UTC)))
                continue
            answer, confirmed = (prepared, {}) if isinstance(prepared, Answer) else await self._send_entry(entry, *prepared, ids)
            now = datetime.now(UTC)
            if answer.outcome == RETRY:
                delay = min(answer.retry_after or self._backoff(entry.attempts), self.config.max_backoff_seconds)
                await self.store.write(queue.retry_later, entry.id, answer.error or "", iso(now + timedelta(seconds=delay)))
                log.warning("sync: %s %s not sent (%s); next try in %.0f s", entry.entity, entry.entity_id, answer.error, delay)
                return delay
            self._unwritten.add(entry.id, answer.outcome, iso(now), answer.error, confirmed)
        return 0.0 if len(entries) == BATCH else self.config.poll_seconds

    async def _write_outcomes(self) -> None:
        """The outcomes and versions kept in memory, written in one transaction (queue.settle_all)."""
        outcomes, versions = self._unwritten.take()
        if outcomes or versions:
            await self.store.write(queue.settle_all, outcomes, versions)

    async def _prepare(self, entry: queue.Entry, ids: CartIdentifiers) -> tuple[list[Write], dict[str, Known]] | Answer:
        """What the entry writes, built from the current rows, and the versions the store keeps of
        it, in one trip to the store thread; a large document is uploaded first
        (resumable_upload.py), and while it is not whole, how far the upload got."""
        try:
            return await self.store.read(_writes_and_versions, self.blobs, entry, ids, self.inline_max)
        except UploadFirst as document:
            assert self.uploads is not None  # only raised with an upload endpoint
            await self._write_outcomes()  # an upload takes its time: what was confirmed before it is written first
            answer = await self.uploads.upload(self.store, document)
            if answer.outcome != SENT:
                return answer
            log.info("sync: document of entry %d uploaded (%d bytes)", document.entry_id, document.size)
            return await self.store.read(_writes_and_versions, self.blobs, entry, ids, self.inline_max)

    async def _send_leaves_together(self, entries: list[queue.Entry], ids: CartIdentifiers) -> int:
        """The run of leaves at the head of `entries` (changes nothing else refers to) in one
        transaction; how many it confirmed. 0: send the first alone (fewer than two, or the merged
        try was not confirmed: a transaction is all or nothing, so it changed nothing)."""
        leaves = next((n for n, e in enumerate(entries) if (e.entity, e.operation) not in LEAVES), len(entries))
        if leaves < 2:
            return 0  # nothing to merge: not worth building (and reading a document's bytes) twice
        from cloud_sync.plan import merged, requests_for

        run: list[tuple[queue.Entry, Request]] = []
        size = 0
        for entry, writes in await self.store.read(_leaf_writes, self.blobs, entries[:leaves], ids, self.inline_max):
            planned = requests_for(entry, writes, {}, ids)
            size += sum(len(r.body) for r in planned)
            if len(planned) != 1 or (run and size > MERGED_BYTES):
                break
            run.append((entry, planned[0]))
        if len(run) < 2:
            return 0
        answer = await self.client.send(merged([r for _, r in run]).body)
        if answer.outcome != SENT:
            return 0
        at = iso(datetime.now(UTC))
        for entry, _ in run:
            self._unwritten.add(entry.id, queue.SENT, at)
        return len(run)

    async def _send_entry(self, entry: queue.Entry, writes: list[Write], stored: dict[str, Known],
                          ids: CartIdentifiers) -> tuple[Answer, Confirmed]:
        """The entry's requests in order (plan.py); the first that is not sent decides the entry's
        outcome. `stored`: the versions the store keeps of what it writes, to which those confirmed
        since are added. The versions the server confirms are noted as each request is (a retry
        half-way then names the new ones), the last request's with the entry's outcome."""
        from cloud_sync.plan import TRANSACTION, requests_for

        known = {**stored, **self._unwritten.known(_kept_up_to_date(writes))}
        confirmed: Confirmed = {}
        for request in requests_for(entry, writes, known, ids):
            if confirmed:
                self._unwritten.note(iso(datetime.now(UTC)), confirmed)
            answer = await self.client.send(request.body, request.method, request.path, request.if_match)
            if answer.outcome == CONFLICT and request.path != TRANSACTION:
                answer = await self._own_write_or(answer, request)
            if answer.outcome == GONE or (answer.outcome == REFUSED and answer.status == 404):
                if await self._resent_if_lost(entry):
                    return Answer(RETRY, LOST, retry_after=0.1), {}
                if answer.outcome == GONE:
                    answer = Answer(REFUSED, answer.error)
            if answer.outcome != SENT:
                return answer, {}
            if request.path == TRANSACTION:
                confirmed = {k: (*v, d) for k, v, d in zip(request.keys, versions(answer.text), request.digests, strict=False) if k and v}
            else:
                confirmed = {request.keys[0]: (request.path, answer.etag, request.digests[0])} if answer.etag else {}
        return Answer(SENT), confirmed

    async def _own_write_or(self, conflict: Answer, request: Request) -> Answer:
        """A 412 on an update: the server's copy is read. What the cart sent (its earlier try went
        through, the answer was lost) is sent; nothing there is gone; anything else a conflict."""
        try:
            current = await self.client.fetch(request.path)
        except PullError as error:
            if error.status in (404, 410):
                return Answer(GONE, conflict.error)
            return Answer(RETRY, f"{conflict.error} (à vérifier : {error})")
        version = current.get("meta", {}).get("versionId")
        if version and _same(current, request.body):
            return Answer(SENT, etag=f'W/"{version}"')
        return conflict

    async def _resent_if_lost(self, entry: queue.Entry) -> bool:
        """Whether the server lost the entry's resident or their dossiers (then sent again)."""
        await self._write_outcomes()  # where the server keeps them, and what is sent again, as confirmed so far
        patient_id = await self.store.read(queue.patient_of, entry.id)
        if not patient_id:
            return False
        for location in await self.store.read(queue.locations_of_patient, patient_id):
            try:
                await self.client.fetch(location)
            except PullError as error:
                if error.status not in (404, 410):
                    return False  # cannot tell now: the entry's own answer stands
                resent = await self.store.write(queue.resend_patient, patient_id)
                log.warning("sync: the server lost %s; %d change(s) sent again", location, resent)
                return True
        return False

    def _backoff(self, attempts: int) -> float:
        ceiling = min(self.config.max_backoff_seconds, FIRST_BACKOFF * 2 ** attempts)
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter: many carts back on line at once do not retry together)


def _kept_up_to_date(writes: list[Write]) -> set[str]:
    """The version keys of what the entry writes that the cart keeps up to date (not created once)."""
    from cloud_sync.fhir_bundle import CREATE, version_key

    return {version_key(w.resource) for w in writes if w.how != CREATE and getattr(w.resource, "identifier", None)}


def _writes_and_versions(db: Database, blobs: BlobStore, entry: queue.Entry, ids: CartIdentifiers,
                         inline_max: int | None) -> tuple[list[Write], dict[str, Known]]:
    """On the store thread: what the entry writes (to_fhir.writes_for) and the versions kept of it."""
    from cloud_sync.to_fhir import writes_for

    writes = writes_for(db, blobs, entry, ids, inline_max)
    return writes, queue.versions_of(db, _kept_up_to_date(writes))


def _leaf_writes(db: Database, blobs: BlobStore, leaves: list[queue.Entry], ids: CartIdentifiers,
                 inline_max: int | None) -> list[tuple[queue.Entry, list[Write]]]:
    """On the store thread, in one trip rather than one per leaf: what each leaf of a run writes,
    up to the first document to upload first (it goes alone), or up to the one whose bytes make
    the documents read larger than a merged transaction may be (each request holds at least its
    document's bytes, so the run ends there or before: reading further would be for nothing)."""
    from cloud_sync.to_fhir import writes_for

    built: list[tuple[queue.Entry, list[Write]]] = []
    inline = 0
    for entry in leaves:
        try:
            writes = writes_for(db, blobs, entry, ids, inline_max)
        except UploadFirst:
            break
        built.append((entry, writes))
        inline += sum(_inline_bytes(w.resource) for w in writes)
        if inline > MERGED_BYTES:
            break
    return built


def _inline_bytes(resource: Resource) -> int:
    """The bytes a DocumentReference holds inline (its base64 in the JSON is longer)."""
    from fhir.resources.R4B.documentreference import DocumentReference

    return sum(len(c.attachment.data or b"") for c in resource.content) if isinstance(resource, DocumentReference) else 0


def _same(current: dict[str, Any], sent: str) -> bool:
    """The server's copy holds what the cart sent (whatever the server added: its id, meta, narrative)."""
    from fhir.resources.R4B import get_fhir_model_class

    def content(resource: dict[str, Any]) -> dict[str, Any]:
        try:
            model = get_fhir_model_class(resource.get("resourceType", "")).model_validate(resource)
        except (KeyError, ValueError):
            return {"unreadable": resource}
        return {k: v for k, v in model.model_dump(mode="json", exclude_none=True).items() if k not in ("id", "meta", "text")}
    return content(current) == content(json.loads(sent))
