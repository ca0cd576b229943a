"""The audit trail: who did what to which patient's data, when, from where, with what outcome.

Append-only (database triggers refuse UPDATE and DELETE) and hash-chained: each record's hash
covers its fields and the previous record's hash, so editing, removing or reordering a record
breaks the chain from that point on, which `telecart audit verify` reports. Removing the newest
records leaves a shorter valid chain: only an anchor kept off the cart (the regional server's
copy, a later issue) can reveal that.
Records are written in the same transaction as the change they describe.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlite_utils import Database

from agent.clock import utc_now_iso

GENESIS = "0" * 64

# Outcomes
SUCCESS = "success"
FAILURE = "failure"  # the caller tried and got it wrong (bad password, invalid data)
DENIED = "denied"  # the caller was not allowed (no session, locked account, missing CSRF token)


@dataclass(frozen=True)
class AuditEvent:
    actor: str  # the login, or what the caller claimed to be
    action: str  # dotted verb: login, session.lock, patient.read, patient.create, audit.read...
    outcome: str = SUCCESS
    role: str | None = None
    patient_id: str | None = None
    remote_addr: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Actor:
    """Who is acting, for the audit trail."""

    login: str
    role: str
    remote_addr: str | None = None

    def event(self, action: str, patient_id: str | None = None, outcome: str = SUCCESS, detail: str | None = None) -> AuditEvent:
        return AuditEvent(
            actor=self.login, role=self.role, action=action, patient_id=patient_id,
            remote_addr=self.remote_addr, outcome=outcome, detail=detail,
        )


@dataclass(frozen=True)
class AuditRecord(AuditEvent):
    seq: int = 0
    at: str = ""
    prev_hash: str = GENESIS
    hash: str = ""


_HASHED = ("seq", "at", "actor", "role", "action", "patient_id", "remote_addr", "outcome", "detail", "prev_hash")


def _digest(fields: dict[str, object]) -> str:
    canonical = json.dumps([fields[name] for name in _HASHED], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_COLUMNS = (*_HASHED, "hash")
_INSERT = f"INSERT INTO audit ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"


def append(db: Database, event: AuditEvent) -> AuditRecord:
    """Add a record at the end of the chain; call inside the transaction of the change."""
    return append_many(db, [event])[0]


def append_many(db: Database, events: list[AuditEvent]) -> list[AuditRecord]:
    """Add records in order (a list read: one per patient shown), reading the chain's end once."""
    assert db.conn.in_transaction, "audit records must share the change's transaction"
    last = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev_hash = (last[0], last[1]) if last else (0, GENESIS)
    at = utc_now_iso()
    records = []
    for event in events:
        seq += 1
        fields = vars(event) | {"seq": seq, "at": at, "prev_hash": prev_hash}  # flat: vars() is asdict() for less
        fields["hash"] = prev_hash = _digest(fields)
        records.append(AuditRecord(**fields))
    db.conn.executemany(_INSERT, [[getattr(r, name) for name in _COLUMNS] for r in records])
    return records


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def verify(db: Database) -> tuple[int, ChainBreak | None]:
    """Walk the chain; returns (records checked, first break or None)."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    for row in db.query(f"SELECT {', '.join(_HASHED)}, hash FROM audit WHERE seq >= 1 ORDER BY seq"):
        if row["seq"] != expected_seq:
            return checked, ChainBreak(expected_seq, f"record {expected_seq} is missing (next is {row['seq']})")
        if row["prev_hash"] != expected_prev:
            return checked, ChainBreak(row["seq"], "does not follow the previous record (prev_hash mismatch)")
        if _digest(row) != row["hash"]:
            return checked, ChainBreak(row["seq"], "content was altered (hash mismatch)")
        expected_prev, expected_seq, checked = row["hash"], expected_seq + 1, checked + 1
    stray = db.execute("SELECT min(seq) FROM audit WHERE seq < 1").fetchone()[0]
    if stray is not None:  # a record renumbered below the start is missing from its place
        return checked, ChainBreak(expected_seq, f"record {expected_seq} is missing (a record is numbered {stray})")
    return checked, None


def search(
    db: Database,
    *,
    patient_id: str | None = None,
    actor: str | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> Iterator[AuditRecord]:
    """Newest first, optionally filtered by patient or actor; page with `before_seq`."""
    where, params = [], {}
    if patient_id:
        where.append("patient_id = :patient_id")
        params["patient_id"] = patient_id
    if actor:
        where.append("actor = :actor")
        params["actor"] = actor
    if before_seq:
        where.append("seq < :before_seq")
        params["before_seq"] = before_seq
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    params["limit"] = limit
    for row in db.query(f"SELECT * FROM audit {clause} ORDER BY seq DESC LIMIT :limit", params):
        yield AuditRecord(**row)
