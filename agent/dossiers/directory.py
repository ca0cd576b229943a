"""The local directory of professionals the cart calls on (seed 000 §2.2.3.3): specialists and
other health professionals, kept by the establishment's admins so a nurse picks a name instead
of typing an address that must be right for the invitation to arrive."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlite_utils import Database

from agent import audit
from agent.audit import Actor
from agent.clock import utc_now_iso
from agent.identity.phonetic import normalise


@dataclass(frozen=True)
class Professional:
    id: int
    name: str
    first_name: str | None
    specialty: str
    rpps: str | None
    email: str | None
    mobile: str | None
    active: bool
    mssante: str | None = None  # their secure health messaging address (agent/notify/mssante.py sets it)

    @property
    def display_name(self) -> str:
        return doctor_name(self.name, self.first_name)


def doctor_name(name: str, first_name: str | None) -> str:
    """"Dr Claire Petit", as doctors sign (patients, not doctors, are written NAME First name)."""
    return f"Dr {first_name or ''} {name.title()}".replace("  ", " ")


_COLUMNS = ("name", "first_name", "specialty", "rpps", "email", "mobile")


def _from_row(row: dict[str, Any]) -> Professional:
    return Professional(id=row["id"], active=bool(row["active"]), mssante=row.get("mssante"), **{k: row[k] for k in _COLUMNS})


def add(db: Database, fields: dict[str, Any], actor: Actor) -> Professional:
    now = utc_now_iso()
    row = {**{k: fields.get(k) for k in _COLUMNS}, "active": 1, "created_at": now, "updated_at": now}
    new_id = db["directory"].insert(row).last_pk
    audit.append(db, actor.event("directory.add", detail=f"{row['name']} ({row['specialty']})"))
    return read(db, new_id)  # type: ignore[return-value]


def update(db: Database, professional_id: int, changes: dict[str, Any], actor: Actor) -> Professional | None:
    if read(db, professional_id) is None:
        return None
    values = {k: v for k, v in changes.items() if k in _COLUMNS or k == "active"}
    if "active" in values:
        values["active"] = int(bool(values["active"]))
    db["directory"].update(professional_id, {**values, "updated_at": utc_now_iso()})
    audit.append(db, actor.event("directory.update", detail=f"n° {professional_id} : {', '.join(sorted(values))}"))
    return read(db, professional_id)


def read(db: Database, professional_id: int) -> Professional | None:
    rows = list(db.query("SELECT * FROM directory WHERE id = ?", [professional_id]))
    return _from_row(rows[0]) if rows else None


def search(db: Database, text: str | None = None, *, include_inactive: bool = False) -> list[Professional]:
    """Active professionals whose name, first name or specialty contains `text` (accents and case
    ignored), by name. The directory holds tens of entries: filtering in Python is enough."""
    rows = db.query("SELECT * FROM directory" + ("" if include_inactive else " WHERE active = 1") + " ORDER BY name, first_name")
    found = [_from_row(r) for r in rows]
    if text:
        wanted = normalise(text)
        found = [p for p in found if wanted in normalise(f"{p.name} {p.first_name or ''} {p.specialty}")]
    return found


def as_dict(professional: Professional) -> dict[str, Any]:
    return {**asdict(professional), "display_name": professional.display_name}
