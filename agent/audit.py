"""The audit trail: who did what to which patient's data, when, from where, with what outcome.

Append-only (database triggers refuse UPDATE and DELETE) and chained: each record's hash, an
HMAC under the cart's audit key (kept out of the database: agent/access/keys.py), covers its
fields and the previous record's hash, so editing, removing or reordering a record breaks the
chain from that point on, which `telecart audit verify` reports; without the key nobody can
rebuild a chain that verifies. Removing the newest
records leaves a shorter valid chain: only an anchor kept off the cart (the regional server's
copy, a later issue) can reveal that.
Records are written in the same transaction as the change they describe.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlite_utils import Database

from agent.access.keys import keys_of
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


def _digest(fields: dict[str, object], key: bytes | None) -> str:
    """HMAC-SHA256 under the cart's audit key (agent/access/keys.py); plain SHA-256 for the records
    an agent wrote before the chain was keyed."""
    canonical = json.dumps([fields[name] for name in _HASHED], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hmac.new(key, canonical, hashlib.sha256).hexdigest() if key else hashlib.sha256(canonical).hexdigest()


_KEYED_FROM = "audit_keyed_from"


def _marker(key: bytes, seq: int) -> str:
    return f"{seq}:{hmac.new(key, f'{_KEYED_FROM}={seq}'.encode(), hashlib.sha256).hexdigest()}"


def start_keyed_chain(db: Database) -> None:
    """From the next record on, the chain is keyed (once per database; older records keep their
    plain hashes). The marker carries its own HMAC: moving it to fake an unkeyed end fails verify."""
    if db.execute("SELECT 1 FROM meta WHERE key = ?", [_KEYED_FROM]).fetchone():
        return
    last = db.execute("SELECT coalesce(max(seq), 0) FROM audit").fetchone()[0]
    db["meta"].insert({"key": _KEYED_FROM, "value": _marker(keys_of(db).audit_key, last + 1)})


def _keyed_from(db: Database) -> tuple[int, bool]:
    """The first keyed record's number, and whether its marker is genuine."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", [_KEYED_FROM]).fetchone()
    if row is None:
        return 1, False
    head = row[0].partition(":")[0]
    seq = int(head) if head.isdigit() else 1
    return seq, hmac.compare_digest(row[0], _marker(keys_of(db).audit_key, seq))


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
    key = keys_of(db).audit_key
    records = []
    for event in events:
        seq += 1
        fields = vars(event) | {"seq": seq, "at": at, "prev_hash": prev_hash}  # flat: vars() is asdict() for less
        fields["hash"] = prev_hash = _digest(fields, key)
        records.append(AuditRecord(**fields))
    db.conn.executemany(_INSERT, [[getattr(r, name) for name in _COLUMNS] for r in records])
    return records


def head(db: Database) -> AuditRecord | None:
    """The chain's last record: its hash seals every record before it."""
    rows = list(db.query(f"SELECT {', '.join(_COLUMNS)} FROM audit ORDER BY seq DESC LIMIT 1"))
    return AuditRecord(**rows[0]) if rows else None


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def verify(db: Database) -> tuple[int, ChainBreak | None]:
    """Walk the chain; returns (records checked, first break or None)."""
    keyed_from, genuine = _keyed_from(db)
    if not genuine:
        return 0, ChainBreak(keyed_from, "the start of the keyed chain was altered (or this is not this cart's key)")
    key = keys_of(db).audit_key
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    for row in db.query(f"SELECT {', '.join(_HASHED)}, hash FROM audit WHERE seq >= 1 ORDER BY seq"):
        if row["seq"] != expected_seq:
            return checked, ChainBreak(expected_seq, f"record {expected_seq} is missing (next is {row['seq']})")
        if row["prev_hash"] != expected_prev:
            return checked, ChainBreak(row["seq"], "does not follow the previous record (prev_hash mismatch)")
        if _digest(row, key if row["seq"] >= keyed_from else None) != row["hash"]:
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
