"""The queue of emails and SMS (`deliveries` table): offline-first, a dead network delays a
message, never loses it.

A row's life: `enqueue` writes it `pending` in the caller's transaction (so an invitation and its
email commit together). The `Dispatcher` claims due rows, makes one attempt each and records the
outcome in its own transaction:

- sent: `sent`, `sent_at`;
- temporary failure (network, relay busy, not configured yet): `attempts` + 1, `last_error` in
  French for the dossier screen, next attempt after 15 s, 30 s, 1 min, 2 min … at most 15 min;
- permanent failure (address refused), or still failing 48 h after it was queued: `failed`.

`attempts` counts every attempt, the successful one included. `next_attempt_at` is epoch seconds;
0 means as soon as possible (a wrong clock at boot cannot hold back a new message).

Claiming moves `next_attempt_at` past the time the batch can take to send (a lease): a second
dispatcher, or this one restarted, does not take the same rows. If the agent dies in the middle of
an attempt, the row goes again when the lease ends: a message may, rarely, arrive twice; it is
never lost. On a clean stop the attempt in flight gets a few seconds to finish and be recorded.

A body waits sealed under the cart's key (agent/access/keys.py) and is erased once the message is
sent or given up: links and codes do not stay at rest, who, when and how it went do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

import aiohttp
from sqlite_utils import Database

from agent.access.keys import keys_of
from agent.config import MailConfig, SmsConfig
from agent.logs import fields
from agent.notify import DeliveryError, masked
from agent.notify.mail import send_mail
from agent.notify.sms import send_sms

if TYPE_CHECKING:
    from agent.store import Store

log = logging.getLogger(__name__)

CHANNELS = ("email", "sms", "mssante")  # mssante: agent/notify/mssante.py, through `Dispatcher(senders=...)`
SCRUBBED_BODY = "[contenu effacé après envoi]"
SECRET_PURPOSES = frozenset({"otp"})
"""Purposes whose erased body is also checkpointed out of the WAL at once (a code: even sealed,
it should not linger)."""

FIRST_RETRY_SECONDS = 15.0
MAX_RETRY_SECONDS = 15 * 60.0
GIVE_UP_AFTER_SECONDS = 48 * 3600.0
BATCH_SIZE = 5
IDLE_RECHECK_SECONDS = 60.0  # rows queued by another process (CLI) and clock jumps are seen this late at worst
ERROR_RECHECK_SECONDS = 30.0  # after the store itself failed (disk, lock)
STOP_GRACE_SECONDS = 5.0  # a stop lets the attempt in flight finish this long, so it is not sent twice
UNEXPECTED = "Erreur inattendue du chariot pendant l'envoi ; nouvel essai plus tard"


@dataclass(frozen=True)
class DeliveryStatus:
    """What the dossier screen shows of one email or SMS."""

    channel: str
    recipient: str
    state: str  # pending, sent, failed
    attempts: int
    last_error: str | None
    sent_at: str | None
    created_at: str


@dataclass(frozen=True)
class Delivery:
    """A claimed row, everything needed for one attempt."""

    id: int
    channel: str
    recipient: str
    subject: str | None
    body: str
    purpose: str


def iso(epoch: float) -> str:
    """Same format as agent.clock.utc_now_iso, for a given instant."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_of(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones: 15 s, 30 s, 1 min … 15 min."""
    return min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)


# --- on the store thread ----------------------------------------------------------------------


def enqueue(db: Database, channel: str, recipient: str, subject: str | None, body: str, purpose: str, ref_id: str | None) -> int:
    """Queue one email or SMS; call inside the transaction that causes it. Returns the row id.
    Tell the dispatcher (`Dispatcher.wake`) after that transaction commits."""
    assert db.conn.in_transaction, "a delivery must share the transaction of what causes it"
    if channel not in CHANNELS:
        raise ValueError(f"unknown delivery channel {channel!r}")
    cursor = db.execute(
        "INSERT INTO deliveries (created_at, channel, recipient, subject, body, purpose, ref_id, state, attempts, next_attempt_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, 0)",
        [iso(time.time()), channel, recipient, subject, keys_of(db).seal(body), purpose, ref_id],
    )
    return int(cursor.lastrowid)  # type: ignore[arg-type]


def status_for(db: Database, ref_ids: Iterable[str]) -> dict[str, list[DeliveryStatus]]:
    """The deliveries of each of `ref_ids` (e.g. invitation ids), oldest first; ids without any are absent."""
    ids = list(ref_ids)
    found: dict[str, list[DeliveryStatus]] = {}
    if not ids:
        return found
    rows = db.execute(
        "SELECT ref_id, channel, recipient, state, attempts, last_error, sent_at, created_at FROM deliveries"
        " WHERE ref_id IN (SELECT value FROM json_each(?)) ORDER BY id",
        [_json_list(ids)],
    ).fetchall()
    for ref_id, *values in rows:
        found.setdefault(ref_id, []).append(DeliveryStatus(*values))
    return found


def pending_count(db: Database) -> int:
    return db.execute("SELECT count(*) FROM deliveries WHERE state = 'pending'").fetchone()[0]


def next_due(db: Database) -> float | None:
    """When the earliest pending row is due (epoch seconds), None when nothing is pending."""
    return db.execute("SELECT min(next_attempt_at) FROM deliveries WHERE state = 'pending'").fetchone()[0]


def claim_due(db: Database, now: float, lease_seconds: float, limit: int) -> list[Delivery]:
    """Take up to `limit` due rows: their next attempt moves to now + lease, so nobody else takes them."""
    rows = db.execute(
        "SELECT id, channel, recipient, subject, body, purpose FROM deliveries"
        " WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
        [now, limit],
    ).fetchall()
    if rows:
        db.execute(
            "UPDATE deliveries SET next_attempt_at = ? WHERE id IN (SELECT value FROM json_each(?))",
            [now + lease_seconds, _json_list([r[0] for r in rows])],
        )
    keys = keys_of(db)
    return [Delivery(*row[:4], keys.unseal(row[4]), *row[5:]) for row in rows]


def record_sent(db: Database, delivery_id: int, now: float) -> None:
    row = db.execute("SELECT 1 FROM deliveries WHERE id = ? AND state = 'pending'", [delivery_id]).fetchone()
    if row is None:
        return
    db.execute(
        "UPDATE deliveries SET state = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?",
        [iso(now), delivery_id],
    )
    _erase_body(db, delivery_id)


def record_failure(db: Database, delivery_id: int, now: float, error: str, permanent: bool) -> str | None:
    """Count a failed attempt; returns the row's new state ('pending' or 'failed'), None if it was
    no longer pending."""
    row = db.execute(
        "SELECT attempts, created_at FROM deliveries WHERE id = ? AND state = 'pending'", [delivery_id]
    ).fetchone()
    if row is None:
        return None
    attempts, created_at = row[0] + 1, row[1]
    if permanent or now - epoch_of(created_at) >= GIVE_UP_AFTER_SECONDS:
        db.execute("UPDATE deliveries SET state = 'failed', attempts = ?, last_error = ? WHERE id = ?",
                   [attempts, error, delivery_id])
        _erase_body(db, delivery_id)
        return "failed"
    db.execute("UPDATE deliveries SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
               [attempts, error, now + retry_delay(attempts), delivery_id])
    return "pending"


def cancel_pending(db: Database, ref_id: str, reason: str, purpose: str | None = None) -> int:
    """What still waits for `ref_id` (only that `purpose`'s messages when given: an invitation's
    link and its codes share the ref) will not leave: failed with `reason`, its body erased.
    Returns how many were cancelled."""
    ids = [r[0] for r in db.execute("SELECT id FROM deliveries WHERE ref_id = ? AND state = 'pending' AND purpose = coalesce(?, purpose)",
                                    [ref_id, purpose]).fetchall()]
    for delivery_id in ids:
        db.execute("UPDATE deliveries SET state = 'failed', last_error = ? WHERE id = ?", [reason, delivery_id])
        _erase_body(db, delivery_id)
    return len(ids)


def _erase_body(db: Database, delivery_id: int) -> None:
    # secure_delete: the old bytes are zeroed in the page, not merely marked free.
    previous = db.execute("PRAGMA secure_delete").fetchone()[0]
    db.execute("PRAGMA secure_delete = ON")
    try:
        db.execute("UPDATE deliveries SET body = ? WHERE id = ?", [SCRUBBED_BODY, delivery_id])
    finally:
        db.execute(f"PRAGMA secure_delete = {int(previous)}")


def forget_erased(db: Database) -> None:
    """After erasing a secret: checkpoint and truncate the WAL, whose older page versions still
    hold it. Outside any transaction (Store.read). Partial when another connection is reading;
    the next one completes it."""
    try:
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.Error:  # the body is erased already; only old page copies wait for the next checkpoint
        log.warning("could not checkpoint the WAL after erasing a secret", exc_info=True,
                    extra=fields(event="wal_checkpoint_failed"))


def _json_list(values: list[object]) -> str:
    """One bound parameter for a whole list (`IN (SELECT value FROM json_each(?))`): no limit on its length."""
    return json.dumps(values)


# --- on the event loop ------------------------------------------------------------------------


class ChannelSender(Protocol):
    """One attempt on a channel of its own (agent/notify/mssante.py): DeliveryError on failure."""

    timeout_seconds: float

    def send(self, delivery: Delivery) -> Awaitable[None]: ...


class Dispatcher:
    """Sends what the queue holds, one message at a time, each attempt bounded by its channel's
    `timeout_seconds`, so one dead relay or slow gateway delays a batch, never blocks it."""

    def __init__(
        self, store: Store, mail: MailConfig, sms: SmsConfig, http: aiohttp.ClientSession, *,
        clock: Callable[[], float] = time.time, batch_size: int = BATCH_SIZE, senders: Mapping[str, ChannelSender] | None = None,
    ) -> None:
        self.store = store
        self.mail = mail
        self.sms = sms
        self.http = http
        self.clock = clock
        self.batch_size = batch_size
        self.senders = dict(senders or {})  # channels beyond email and SMS (mssante), or instead of them (practice)
        # Long enough for a whole batch of attempts that all run into their timeout.
        timeouts = [mail.timeout_seconds, sms.timeout_seconds, *(s.timeout_seconds for s in self.senders.values())]
        self.lease_seconds = batch_size * (max(timeouts) + 5) + 60
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Messages were just queued (and committed): send them now rather than at the next check."""
        self._wake.set()

    async def run(self) -> None:
        """Send until cancelled. Waits for the earliest due row or `wake()`, whichever comes first."""
        log.info("delivery queue started", extra=fields(event="deliveries_started"))
        while True:
            self._wake.clear()  # before draining: a wake() during the drain makes the wait return at once
            try:
                await self.drain()
                due = await self.store.read(next_due)
            except Exception:  # a full disk or a locked database must not end sending for good
                log.exception("delivery queue failed; retrying later", extra=fields(event="deliveries_failed"))
                due = self.clock() + ERROR_RECHECK_SECONDS
            delay = IDLE_RECHECK_SECONDS if due is None else min(max(due - self.clock(), 0.0), IDLE_RECHECK_SECONDS)
            if delay > 0:
                # asyncio.timeout, not wait_for: in 3.11 wait_for drops a cancellation (the agent's
                # stop) that comes with a wake(), and the loop would never end.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()

    async def drain(self) -> int:
        """Make one attempt for every row due now (by `clock`); returns how many attempts were made."""
        attempts = 0
        while batch := await self.store.write(claim_due, self.clock(), self.lease_seconds, self.batch_size, essential=True):
            for delivery in batch:
                await self._attempt_to_the_end(delivery)
                attempts += 1
        return attempts

    async def _attempt_to_the_end(self, delivery: Delivery) -> None:
        """On cancellation the attempt in flight may finish (and be recorded) for STOP_GRACE_SECONDS:
        an email the relay already took must not stay pending and go again after a restart."""
        attempt = asyncio.ensure_future(self._attempt(delivery))
        try:
            await asyncio.shield(attempt)
        except asyncio.CancelledError:
            await asyncio.wait({attempt}, timeout=STOP_GRACE_SECONDS)
            if attempt.done():
                if not attempt.cancelled() and attempt.exception() is not None:
                    log.error("delivery %d: recording failed during stop", delivery.id, exc_info=attempt.exception())
            else:
                attempt.cancel()  # the lease brings it back later
            raise

    async def _attempt(self, delivery: Delivery) -> None:
        who = masked(delivery.recipient)
        try:
            if delivery.channel in self.senders:  # a sender given takes its channel (practice mode: every channel)
                await self.senders[delivery.channel].send(delivery)
            elif delivery.channel == "email":
                await send_mail(self.mail, delivery.recipient, delivery.subject or "", delivery.body)
            elif delivery.channel == "sms":
                await send_sms(self.sms, self.http, delivery.recipient, delivery.body)
            else:
                raise DeliveryError(f"Canal d'envoi inconnu : {delivery.channel}", permanent=True)
        except DeliveryError as exc:
            state = await self.store.write(record_failure, delivery.id, self.clock(), exc.message, exc.permanent, essential=True)
            if state == "failed" and delivery.purpose in SECRET_PURPOSES:
                await self.store.read(forget_erased)
            log.warning(
                "%s to %s not sent (%s): %s", delivery.channel, who, state, exc.message,
                extra=fields(event="delivery_failed", delivery_id=delivery.id, channel=delivery.channel,
                             recipient=who, state=state, purpose=delivery.purpose),
            )
        except Exception:
            log.exception("%s to %s: unexpected error", delivery.channel, who,
                          extra=fields(event="delivery_error", delivery_id=delivery.id, channel=delivery.channel))
            await self.store.write(record_failure, delivery.id, self.clock(), UNEXPECTED, False, essential=True)
        else:
            await self.store.write(record_sent, delivery.id, self.clock(), essential=True)
            if delivery.purpose in SECRET_PURPOSES:
                await self.store.read(forget_erased)
            log.info(
                "%s sent to %s", delivery.channel, who,
                extra=fields(event="delivery_sent", delivery_id=delivery.id, channel=delivery.channel,
                             recipient=who, purpose=delivery.purpose),
            )
