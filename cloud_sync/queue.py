"""The outbox read as the sync's queue (plain functions on the cart's database, run on the store
thread): the entries due now in their order, and what became of each one: sent (the server
confirmed it), retried later (with the error a technician reads), a conflict or a refusal for a
person, or kept on the cart (a kind the regional server does not receive yet)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from agent.clock import utc_now_iso
from agent.store import outbox

SENT, PENDING, CONFLICT, REFUSED, LOCAL = "sent", "pending", "conflict", "refused", "local"


@dataclass(frozen=True)
class Entry:
    id: int
    entity: str
    entity_id: str
    operation: str
    payload: dict[str, Any]
    attempts: int
    at: str = ""  # when the change was made on the cart


def due(db: Database, now: str, limit: int, longest_wait: float | None = None) -> list[Entry]:
    """The pending entries in the order they were made, up to the first one that must still wait
    (a change is never sent before an earlier one: a vital before its resident). A wait beyond
    `longest_wait` seconds from now was set by a clock that was ahead and has since been set back:
    it is over."""
    horizon = (datetime.fromisoformat(now) + timedelta(seconds=longest_wait)).isoformat() if longest_wait is not None else None
    rows = list(db.query("SELECT id, entity, entity_id, operation, payload, attempts, next_try_at, at FROM outbox "
                         "WHERE state = 'pending' ORDER BY id LIMIT ?", [limit]))
    entries = []
    for row in rows:
        if row["next_try_at"] and row["next_try_at"] > now and not (horizon and row["next_try_at"] > horizon):
            break
        entries.append(Entry(row["id"], row["entity"], row["entity_id"], row["operation"], json.loads(row["payload"]), row["attempts"],
                             row["at"]))
    return entries


@dataclass(frozen=True)
class Outcome:
    """What became of an entry: sent (the server confirmed it), a conflict or a refusal for a
    person, or kept on the cart; with the error a technician reads."""
    entry_id: int
    state: str
    at: str
    error: str | None = None


Kept = tuple[str, str, "str | None", str]  # where the server keeps a resource, its version (ETag), the digest written, when


def settle_all(db: Database, outcomes: Sequence[Outcome], versions: dict[str, Kept]) -> None:
    """What became of several entries, and where and at which version the server keeps what the
    cart keeps up to date (by resource, "Encounter|<system>|<value>"), as the server confirmed them,
    in one transaction: the worker writes the outcomes of many entries at once (one fsync, not one
    each). Versions confirmed half-way through an entry are among them: its retry names the new ones."""
    db.conn.executemany("UPDATE outbox SET state = ?, sent_at = ?, last_error = ?, next_try_at = NULL WHERE id = ?",
                        [(o.state, o.at if o.state == SENT else None, o.error, o.entry_id) for o in outcomes])
    db.conn.executemany("INSERT INTO sync_versions (resource, location, etag, digest, at) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (resource) DO UPDATE SET location = excluded.location, etag = excluded.etag, "
                        "digest = excluded.digest, at = excluded.at", [(resource, *kept) for resource, kept in versions.items()])


def retry_later(db: Database, entry_id: int, error: str, next_try_at: str) -> None:
    db.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_try_at = ? WHERE id = ?", [error, next_try_at, entry_id])


LABELS = {"patient": "résident", "dossier": "télédossier", "consent": "consentement", "participant": "participant",
          "invitation": "invitation", "fiche": "fiche", "vital": "constante", "document": "document", "signature": "signature",
          "consultation_end": "fin de téléconsultation", "patient_share": "envoi au résident"}


OPERATIONS = {"create": "création", "update": "mise à jour", "state": "changement d'état", "sign": "signature",
              "send": "nouvel envoi", "revoke": "révocation"}
STATES = {PENDING: "en attente", SENT: "envoyé", CONFLICT: "en conflit", REFUSED: "refusé", LOCAL: "gardé sur le chariot"}


def items(db: Database, states: tuple[str, ...], limit: int = 50) -> list[dict[str, Any]]:
    """Each entry in these states, oldest first, as a technician reads it: what it is, of which
    dossier, since when, its tries and its last error."""
    marks = ", ".join("?" * len(states))
    return [{**row, "label": LABELS.get(row["entity"], row["entity"]), "operation_label": OPERATIONS.get(row["operation"], row["operation"]),
             "state_label": STATES.get(row["state"], row["state"])} for row in db.query(
        f"SELECT id, at, entity, entity_id, operation, state, attempts, last_error, next_try_at, {_DOSSIER_OF} AS dossier_id "
        f"FROM outbox WHERE state IN ({marks}) ORDER BY id LIMIT ?", [*states, limit])]


def counts(db: Database) -> dict[str, int]:
    return {row["state"]: row["n"] for row in db.query("SELECT state, count(*) AS n FROM outbox GROUP BY state")}


def cart_id(db: Database) -> str:
    return db.execute("SELECT value FROM meta WHERE key = 'cart_id'").fetchone()[0]


def status(db: Database) -> dict[str, Any]:
    """What `telecart sync status` and the kiosk say: how many wait, since when, the last error."""
    waiting = db.execute("SELECT count(*), min(at) FROM outbox WHERE state = 'pending'").fetchone()
    last = db.execute("SELECT last_error, attempts, next_try_at FROM outbox WHERE state = 'pending' AND last_error IS NOT NULL "
                      "ORDER BY id LIMIT 1").fetchone()
    return {"pending": waiting[0], "oldest": waiting[1], "counts": counts(db),
            "error": last[0] if last else None, "attempts": last[1] if last else 0, "next_try_at": last[2] if last else None}


_DOSSIER_OF = outbox.DOSSIER_OF


def waiting_dossiers(db: Database) -> tuple[int, str | None]:
    """How many dossiers have something not yet on the regional server, and since when."""
    row = db.execute(f"SELECT count(DISTINCT {_DOSSIER_OF}), min(at) FROM outbox WHERE state = 'pending' "
                     f"AND {_DOSSIER_OF} IS NOT NULL").fetchone()
    return row[0], row[1]


def dossier_waiting(db: Database, dossier_id: str) -> int:
    """Its changes not yet on the regional server."""
    return db.execute(f"SELECT count(*) FROM outbox WHERE state = 'pending' AND {_DOSSIER_OF} = ?", [dossier_id]).fetchone()[0]


def versions_of(db: Database, resources: Iterable[str]) -> dict[str, tuple[str, str, str | None]]:
    """Where the server keeps each of `resources` ("Encounter|<system>|<value>"), its version (ETag)
    and the digest of what the cart wrote there; those the server never confirmed are left out."""
    wanted = list(resources)
    if not wanted:
        return {}
    rows = db.execute(f"SELECT resource, location, etag, digest FROM sync_versions WHERE resource IN ({', '.join('?' * len(wanted))})", wanted)
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def audit_head_reported(db: Database) -> int:
    """The number of the last audit record whose hash the server confirmed (0: none yet)."""
    row = db.execute("SELECT value FROM meta WHERE key = 'audit_head_reported'").fetchone()
    return int(row[0]) if row else 0


def note_audit_head_reported(db: Database, seq: int) -> None:
    db["meta"].upsert({"key": "audit_head_reported", "value": str(seq)}, pk="key")


def patient_of(db: Database, entry_id: int) -> str | None:
    """The resident an entry is about: itself, or its dossier's."""
    row = db.execute(f"SELECT CASE WHEN entity = 'patient' THEN entity_id ELSE (SELECT patient_id FROM dossiers WHERE id = {_DOSSIER_OF}) END "
                     "FROM outbox WHERE id = ?", [entry_id]).fetchone()
    return row[0] if row else None


def _written_for(patient_id: str) -> tuple[str, list[str]]:
    """SQL matching the versions kept of a resident's resources and their dossiers' (their keys end with the cart's id)."""
    return ("SELECT resource FROM sync_versions WHERE resource LIKE '%|' || ? OR EXISTS "
            "(SELECT 1 FROM dossiers d WHERE d.patient_id = ? AND sync_versions.resource LIKE '%|' || d.id)", [patient_id, patient_id])


def locations_of_patient(db: Database, patient_id: str) -> list[str]:
    """Where the server keeps the resident and their dossiers' resources, as the cart last wrote them."""
    query, params = _written_for(patient_id)
    return [r[0] for r in db.execute(f"SELECT location FROM sync_versions WHERE resource IN ({query})", params)]


def resend_patient(db: Database, patient_id: str) -> int:
    """The server lost what it had of this resident: everything the cart still holds of them and
    their dossiers is sent again, in its first order (each write is idempotent: what the server
    still has is found, not doubled), written afresh rather than as updates of versions it lost."""
    query, params = _written_for(patient_id)
    db.execute(f"DELETE FROM sync_versions WHERE resource IN ({query})", params)
    db.execute(f"DELETE FROM sync_uploads WHERE entry_id IN (SELECT id FROM outbox WHERE {_DOSSIER_OF} IN "
               "(SELECT id FROM dossiers WHERE patient_id = ?))", [patient_id])  # the files went with the rest
    return db.execute(
        f"UPDATE outbox SET state = 'pending', attempts = 0, next_try_at = NULL, last_error = NULL, sent_at = NULL "
        f"WHERE state IN ('sent', 'conflict', 'refused') AND ((entity = 'patient' AND entity_id = ?) "
        f"OR {_DOSSIER_OF} IN (SELECT id FROM dossiers WHERE patient_id = ?))", [patient_id, patient_id]).rowcount


def upload_of(db: Database, entry_id: int) -> str | None:
    """Where the entry's document is being uploaded (resumable_upload.py), if it was begun."""
    row = db.execute("SELECT url FROM sync_uploads WHERE entry_id = ?", [entry_id]).fetchone()
    return row[0] if row else None


def finished_upload(db: Database, entry_id: int) -> str | None:
    """Where the entry's document is, once the upload server holds all of it."""
    row = db.execute("SELECT url FROM sync_uploads WHERE entry_id = ? AND finished_at IS NOT NULL", [entry_id]).fetchone()
    return row[0] if row else None


def note_upload(db: Database, entry_id: int, url: str) -> None:
    db["sync_uploads"].upsert({"entry_id": entry_id, "url": url, "created_at": utc_now_iso(), "finished_at": None}, pk="entry_id")


def upload_finished(db: Database, entry_id: int) -> None:
    db.execute("UPDATE sync_uploads SET finished_at = ? WHERE entry_id = ?", [utc_now_iso(), entry_id])


def forget_upload(db: Database, entry_id: int) -> None:
    db.execute("DELETE FROM sync_uploads WHERE entry_id = ?", [entry_id])
