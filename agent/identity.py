"""Patient identities (the French identity rules' "identité"): stored, read, listed.

Every read and write is audited under the patient's id, in the same transaction; every write also
enters the outbox for the regional server.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from sqlite_utils import Database

from agent import audit
from agent.audit import Actor
from agent.clock import utc_now_iso
from agent.store import outbox


@dataclass(frozen=True)
class NewIdentity:
    birth_name: str
    first_names: list[str]
    birth_date: date
    sex: str
    used_name: str | None = None
    identity_status: str = "PROV"


@dataclass(frozen=True)
class Identity:
    id: str
    birth_name: str
    used_name: str | None
    first_names: list[str]
    birth_date: str
    sex: str
    identity_status: str
    created_at: str
    updated_at: str

    @property
    def display_name(self) -> str:
        """As French identity rules print it: used (or birth) name in capitals, then first name."""
        return f"{(self.used_name or self.birth_name).upper()} {self.first_names[0]}"


def _from_row(row: dict) -> Identity:
    return Identity(
        id=row["id"], birth_name=row["birth_name"], used_name=row["used_name"],
        first_names=json.loads(row["first_names"]), birth_date=row["birth_date"], sex=row["sex"],
        identity_status=row["identity_status"], created_at=row["created_at"], updated_at=row["updated_at"],
    )


def create(db: Database, new: NewIdentity, actor: Actor) -> Identity:
    now = utc_now_iso()
    row = {
        "id": str(uuid.uuid4()),
        "birth_name": new.birth_name,
        "used_name": new.used_name,
        "first_names": json.dumps(new.first_names, ensure_ascii=False),
        "birth_date": new.birth_date.isoformat(),
        "sex": new.sex,
        "identity_status": new.identity_status,
        "created_at": now,
        "updated_at": now,
        "created_by": actor.login,
    }
    db["patients"].insert(row)
    audit.append(db, actor.event("patient.create", row["id"]))
    outbox.record_change(db, "patient", row["id"], "create", {k: v for k, v in row.items() if k != "created_by"})
    return _from_row(row)


def read(db: Database, patient_id: str, actor: Actor) -> Identity | None:
    rows = list(db.query("SELECT * FROM patients WHERE id = ?", [patient_id]))
    if not rows:
        audit.append(db, actor.event("patient.read", patient_id[:64], outcome=audit.FAILURE, detail="identité introuvable"))
        return None
    audit.append(db, actor.event("patient.read", patient_id))
    return _from_row(rows[0])


def list_recent(db: Database, actor: Actor, limit: int = 50, offset: int = 0) -> tuple[list[Identity], int]:
    total = db.execute("SELECT count(*) FROM patients").fetchone()[0]
    rows = db.query(
        "SELECT * FROM patients ORDER BY updated_at DESC, id LIMIT ? OFFSET ?", [limit, offset]
    )
    items = [_from_row(row) for row in rows]
    # Each patient shown is an access to that patient's data.
    audit.append_many(db, [actor.event("patient.list", item.id, detail=f"liste de {len(items)} sur {total}") for item in items])
    return items, total
