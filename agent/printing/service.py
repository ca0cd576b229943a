"""The print service the routes use (`Services.printing`): print a dossier's PDF, follow the job
until it is done, cancel it, list the printers, choose the printer.

CUPS is reached through pycups, whose calls block: they run in two threads of this service's
own, each bounded by `CALL_TIMEOUT`, so neither the event loop nor the other executors (blobs,
store) ever wait on a printer. A job is followed by a task of its own (quick looks first, then
every `POLL_SECONDS`, at most `FOLLOW_SECONDS`); the print request waits `SETTLE_SECONDS` at most
for a first outcome, then the kiosk polls `GET …/print-jobs/{id}`, which answers what the
follower last saw. Jobs are kept in memory only (the last `KEPT`): after a restart the kiosk is
told the job is no longer followed.

Audited under the nurse's name: the request (`document.print` / `report.print`: what, which
printer, CUPS's job number, or why CUPS refused), a cancellation (`print.cancel`), and the
outcome once known (`print.outcome`: printed, cancelled, failed, or still pending when following
stopped).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from agent import audit
from agent.audit import Actor
from agent.config import PrintingConfig
from agent.links.invitation import Settings
from agent.printing import cups_client, sources, states
from agent.printing.cups_client import PrintRefused, Queue
from agent.refusal import Refused
from agent.store import Store
from agent.store.blobs import BlobStore

log = logging.getLogger(__name__)
T = TypeVar("T")

CALL_TIMEOUT = 15.0  # seconds one CUPS call may take before the server counts as down
SETTLE_SECONDS = 2.5  # the print request waits this long for the job to finish or to meet trouble
FIRST_POLLS = (0.2, 0.3, 0.5, 0.5, 1.0, 1.0)  # seconds between the first looks at a new job
POLL_SECONDS = 2.0
FOLLOW_SECONDS = 30 * 60.0
KEPT = 200
MAX_COPIES = 5

# Why CUPS refused, for the audit trail (the nurse reads agent/api/errors.py's sentence).
_REFUSALS = {
    "print_server_down": "service d'impression injoignable",
    "printing_missing": "bibliothèque CUPS absente du chariot",
    "printer_missing": "imprimante introuvable",
    "no_printer": "aucune imprimante choisie ni par défaut",
    "printer_refusing": "l'imprimante refuse les impressions",
    "practice_no_print": "mode entraînement",
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class PrintJob:
    id: str
    dossier_id: str
    patient_id: str
    document_id: str | None
    what: str
    printer: str
    server: str
    cups_id: int
    copies: int
    actor: Actor
    status: states.Status
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    unreachable: bool = False  # the last look at CUPS failed: the status is the last one known
    # The outcome's audit write, once begun: whoever else reaches the outcome (the nurse's cancel
    # racing the follower) waits for that same write instead of answering before it is saved.
    outcome: asyncio.Future | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def message(self) -> str:
        said = states.ADVICE[self.status.state].format(printer=self.printer)
        if self.unreachable and not self.status.done:
            return f"Le service d'impression ne répond plus : dernier état connu, « {self.status.label} ». {said}"
        return said

    def update(self, status: states.Status, *, unreachable: bool = False) -> None:
        if status != self.status or unreachable != self.unreachable:
            self.status, self.unreachable, self.updated_at = status, unreachable, _now()
        self.changed.set()


@dataclass(frozen=True)
class Printers:
    server: str  # as configured; "" = the system's
    chosen: str  # "" = the server's default destination
    default: str | None
    queues: list[Queue]


class PrintService:
    def __init__(self, config: PrintingConfig, store: Store, blobs: BlobStore, settings: Settings, *, practice: bool = False) -> None:
        self.practice = practice  # the practice mode's: nothing reaches a printer (a fictitious prescription at the pharmacy)
        self.server = config.server
        self.printer = config.printer
        self._store, self._blobs, self._settings = store, blobs, settings
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cups")
        self._jobs: dict[str, PrintJob] = {}
        self._followers: set[asyncio.Task[None]] = set()

    async def _call(self, fn: Callable[..., T], *args: object) -> T:
        """A blocking CUPS call in this service's threads, bounded in time."""
        future = asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        try:
            async with asyncio.timeout(CALL_TIMEOUT):
                return await future
        except TimeoutError as exc:
            raise PrintRefused("print_server_down") from exc

    # --- the nurse's prints ----------------------------------------------------------------

    async def print_document(self, dossier_id: str, document_id: str, actor: Actor, copies: int = 1) -> PrintJob:
        printable = await self._store.read(sources.document, dossier_id, document_id)
        pdf = await asyncio.get_running_loop().run_in_executor(None, self._blobs.get, printable.blob)
        return await self._print(printable, pdf, "document.print", actor, copies)

    async def print_report(self, dossier_id: str, actor: Actor, copies: int = 1) -> PrintJob:
        printable = await self._store.read(sources.report, dossier_id, self._settings)
        assert printable.pdf is not None
        return await self._print(printable, printable.pdf, "report.print", actor, copies)

    async def _print(self, printable: sources.Printable, pdf: bytes, action: str, actor: Actor, copies: int) -> PrintJob:
        copies = max(1, min(MAX_COPIES, copies))
        server, chosen = self.server, self.printer
        try:
            if self.practice:
                raise PrintRefused("practice_no_print")
            queue, cups_id = await self._call(cups_client.submit, server, chosen, printable.title, pdf, copies)
        except PrintRefused as refused:
            await self._record(actor.event(action, printable.patient_id, audit.FAILURE,
                                           f"{printable.what} : non imprimé, {_REFUSALS.get(refused.code, refused.code)}"
                                           + (f" (« {chosen} »)" if chosen else "")))
            raise
        job = PrintJob(id=str(uuid.uuid4()), dossier_id=printable.dossier_id, patient_id=printable.patient_id,
                       document_id=printable.document_id, what=printable.what, printer=queue, server=server, cups_id=cups_id,
                       copies=copies, actor=actor, status=states.status("sent"))
        await self._record(actor.event(action, printable.patient_id, audit.SUCCESS,
                                       f"{printable.what}, {copies} exemplaire(s) : envoyé à l'imprimante « {queue} » (travail {cups_id})"))
        self._keep(job)
        follower = asyncio.get_running_loop().create_task(self._follow(job), name=f"print-{cups_id}")
        self._followers.add(follower)
        follower.add_done_callback(self._followers.discard)
        await self._settled(job, SETTLE_SECONDS)
        return job

    def job(self, dossier_id: str, job_id: str) -> PrintJob:
        job = self._jobs.get(job_id)
        if job is None or job.dossier_id != dossier_id:
            raise Refused("print_job_gone")
        return job

    async def cancel(self, dossier_id: str, job_id: str, actor: Actor) -> PrintJob:
        job = self.job(dossier_id, job_id)
        if job.status.done:
            raise Refused("print_job_over", state=job.status.label)
        await self._call(cups_client.cancel, job.server, job.cups_id, job.printer)
        await self._record(actor.event("print.cancel", job.patient_id, detail=f"{job.what} sur « {job.printer} » (travail {job.cups_id})"))
        job.update(await self._call(cups_client.job_status, job.server, job.cups_id, job.printer))
        if job.status.done:
            await self._outcome(job)
        return job

    # --- following a job ------------------------------------------------------------------

    async def _settled(self, job: PrintJob, timeout: float) -> None:
        """Wait until the job is done or meets trouble, `timeout` at most."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            job.changed.clear()  # before looking: an update from now on wakes the wait below
            remaining = deadline - loop.time()
            if job.status.done or job.status.trouble or remaining <= 0:
                return
            try:
                async with asyncio.timeout(remaining):  # not wait_for: it may drop a cancellation
                    await job.changed.wait()
            except TimeoutError:
                return

    async def _follow(self, job: PrintJob) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        pauses = iter(FIRST_POLLS)
        try:
            while not job.status.done:
                await asyncio.sleep(next(pauses, POLL_SECONDS))
                try:
                    job.update(await self._call(cups_client.job_status, job.server, job.cups_id, job.printer))
                except PrintRefused:  # CUPS down for now: the job waits in its spool, if CUPS kept it
                    job.update(job.status, unreachable=True)
                if loop.time() - started > FOLLOW_SECONDS:
                    break
            await self._outcome(job)
        except asyncio.CancelledError:
            raise
        except Exception:  # one job's following must not die silently: said in the log, the job stays as last seen
            log.exception("following print job %s failed", job.cups_id)

    async def _outcome(self, job: PrintJob, why: str | None = None) -> None:
        if job.outcome is None:
            job.outcome = asyncio.ensure_future(self._record(self._outcome_event(job, why)))
        await asyncio.shield(job.outcome)  # a cancelled follower must not cancel the write itself

    @staticmethod
    def _outcome_event(job: PrintJob, why: str | None) -> audit.AuditEvent:
        if job.status.done:
            said = job.status.label + (f" ({job.status.detail})" if job.status.detail else "")
        else:
            said = f"{why or 'plus suivi après 30 minutes'}, dernier état connu : {job.status.label}"
        return job.actor.event("print.outcome", job.patient_id, audit.SUCCESS if job.status.state == "printed" else audit.FAILURE,
                               f"{job.what} sur « {job.printer} » (travail {job.cups_id}) : {said}")

    async def _record(self, event: audit.AuditEvent) -> None:
        await self._store.write(sources.record, event, essential=True)

    def _keep(self, job: PrintJob) -> None:
        self._jobs[job.id] = job
        if len(self._jobs) > KEPT:
            old = next((j for j in self._jobs.values() if j.status.done), None) or next(iter(self._jobs.values()))
            del self._jobs[old.id]

    # --- the technician's choice ------------------------------------------------------------

    async def printers(self) -> Printers:
        """Every queue of the CUPS server with its state, which one is chosen, the server's default."""
        queues, default = await self._call(cups_client.queues, self.server)
        return Printers(server=self.server, chosen=self.printer, default=default, queues=queues)

    async def choose(self, name: str) -> str:
        """The queue the nurse's prints go to from now on ("" = the server's default destination);
        refused with `printer_missing` when the server has no such queue. The caller keeps it
        for the next start (agent/site_settings.py, key `printing.printer`)."""
        name = name.strip()
        if name:
            queues, _ = await self._call(cups_client.queues, self.server)
            if name not in {q.name for q in queues}:
                raise Refused("printer_missing", printer=name)
        self.printer = name
        return name

    async def close(self) -> None:
        """At the agent's stop (before the store closes): following stops, and every job not done
        gets its outcome recorded as unknown."""
        for follower in list(self._followers):
            follower.cancel()
        for follower in list(self._followers):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await follower
        for job in self._jobs.values():
            with contextlib.suppress(Exception):
                if job.outcome is not None:
                    await job.outcome  # begun by a follower just cancelled: saved before the store closes
                elif not job.status.done:
                    await self._outcome(job, "suivi interrompu par l'arrêt du chariot")
        self._pool.shutdown(wait=False, cancel_futures=True)
