"""Teleconsultation dossiers (télédossiers): the states of the activity view.

This module holds what the activity view needs; the creation wizard (consent, accompaniment,
specialist, slot, invitations) builds on it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlite_utils import Database

from agent import audit
from agent.clock import utc_now_iso
from agent.audit import Actor
from agent.store import outbox


class DossierState(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    AWAITING_REPORT = "awaiting_report"
    CLOSED = "closed"


@dataclass(frozen=True)
class DossierSummary:
    id: str
    patient_id: str
    patient_name: str
    patient_birth_date: str
    patient_sex: str
    state: DossierState
    reason: str | None
    specialist: str | None
    specialty: str | None
    slot_start: str | None
    slot_minutes: int | None
    updated_at: str


def insert(
    db: Database, patient_id: str, state: DossierState, actor: Actor, *, reason: str | None = None,
    specialist: str | None = None, specialty: str | None = None, slot_start: str | None = None,
    slot_minutes: int | None = None,
) -> str:
    now = utc_now_iso()
    row = {
        "id": str(uuid.uuid4()), "patient_id": patient_id, "state": state.value, "reason": reason,
        "specialist": specialist, "specialty": specialty, "slot_start": slot_start,
        "slot_minutes": slot_minutes, "created_at": now, "updated_at": now, "created_by": actor.login,
    }
    db["dossiers"].insert(row)
    audit.append(db, actor.event("dossier.create", patient_id, detail=f"télédossier n° {row['id'][:8]}"))
    outbox.record_change(db, "dossier", row["id"], "create", {k: v for k, v in row.items() if k != "created_by"})
    return row["id"]


def list_for_activity(db: Database, actor: Actor, limit: int = 200) -> tuple[list[DossierSummary], int]:
    """Running first, then scheduled by slot, awaiting report, drafts, closed; audited per resident."""
    total = db.execute("SELECT count(*) FROM dossiers").fetchone()[0]
    rows = db.query(
        """
        SELECT d.*, coalesce(p.used_name, p.birth_name) AS name, json_extract(p.first_names, '$[0]') AS first_name,
               p.birth_date, p.sex
        FROM dossiers d JOIN patients p ON p.id = d.patient_id
        ORDER BY CASE d.state WHEN 'in_progress' THEN 0 WHEN 'scheduled' THEN 1 WHEN 'awaiting_report' THEN 2
                              WHEN 'draft' THEN 3 ELSE 4 END,
                 CASE WHEN d.state = 'scheduled' THEN d.slot_start END, d.updated_at DESC
        LIMIT ?
        """,
        [limit],
    )
    items = [
        DossierSummary(
            id=r["id"], patient_id=r["patient_id"], patient_name=f"{r['name'].upper()} {r['first_name']}",
            patient_birth_date=r["birth_date"], patient_sex=r["sex"], state=DossierState(r["state"]), reason=r["reason"],
            specialist=r["specialist"], specialty=r["specialty"], slot_start=r["slot_start"],
            slot_minutes=r["slot_minutes"], updated_at=r["updated_at"],
        )
        for r in rows
    ]
    # Each resident shown is an access to that resident's data.
    audit.append_many(db, [actor.event("dossier.list", item.patient_id, detail=f"vue activité, télédossier n° {item.id[:8]}")
                           for item in items])
    return items, total
