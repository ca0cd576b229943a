"""Patient identities (the French identity rules' "identité"): stored, read, listed, searched.

Every read and write is audited under the patient's id, in the same transaction; every write also
enters the outbox for the regional server. Search modes are those of the regional platforms'
identity search (seed 000 §2.2.1): exact, approaching (similar spelling) and phonetic (same sound).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rapidfuzz import fuzz
from sqlite_utils import Database

from agent import audit
from agent.audit import Actor
from agent.clock import utc_now_iso
from agent.identity.names import begins_with, marks, spelt_near
from agent.identity.phonetic import key, normalise, search_columns
from agent.refusal import Refused
from agent.store import outbox
from agent.store.changes import Operation, PatientChange

QUALIFIED = "QUAL"
# Approaching search: a name this similar (0-100, rapidfuzz) or more is a candidate.
APPROACHING_THRESHOLD = 70


@dataclass(frozen=True)
class NewIdentity:
    birth_name: str
    first_names: list[str]
    birth_date: date
    sex: str
    used_name: str | None = None
    identity_status: str = "PROV"
    birth_insee: str | None = None
    birth_country: str | None = None
    ins: str | None = None
    email: str | None = None
    mobile: str | None = None
    civility: str | None = None  # "M." or "Mme"
    address_line: str | None = None
    postal_code: str | None = None
    city: str | None = None


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
    birth_insee: str | None = None
    birth_country: str | None = None
    ins: str | None = None
    email: str | None = None
    mobile: str | None = None
    civility: str | None = None
    address_line: str | None = None
    postal_code: str | None = None
    city: str | None = None
    match: float = 100.0

    @property
    def display_name(self) -> str:
        return display_name(self.used_name, self.birth_name, self.first_names)

    @property
    def shown_ins(self) -> str | None:
        """The INS is shown and sent only for a qualified identity (French identity rules)."""
        return self.ins if self.identity_status == QUALIFIED else None


def display_name(used_name: str | None, birth_name: str, first_names: list[str]) -> str:
    """As French identity rules print it: used (or birth) name in capitals, then first name."""
    return f"{(used_name or birth_name).upper()} {first_names[0]}"


_FIELDS = ("birth_name", "used_name", "birth_date", "sex", "identity_status", "birth_insee", "birth_country", "ins",
           "email", "mobile", "civility", "address_line", "postal_code", "city")
# The strict traits of the identity rules (RNIV): for an identity that came from the INSi
# teleservice (retrieved or qualified) they are the teleservice's, changed only by a new retrieval.
STRICT_TRAITS = ("birth_name", "first_names", "birth_date", "sex", "birth_insee", "birth_country", "ins")
FROM_INSI = ("RECUP", QUALIFIED)


class IdentityRefused(Refused):
    """A rule of the identity refused the change (codes in agent/api/errors.py)."""


def _from_row(row: dict, match: float = 100.0) -> Identity:
    return Identity(
        id=row["id"], first_names=json.loads(row["first_names"]), created_at=row["created_at"],
        updated_at=row["updated_at"], match=match, **{name: row[name] for name in _FIELDS},
    )


def _change(row: dict[str, Any]) -> PatientChange:
    return PatientChange(**{k: row[k] for k in PatientChange.model_fields})


def create(db: Database, new: NewIdentity, actor: Actor) -> Identity:
    now = utc_now_iso()
    row = {
        "id": str(uuid.uuid4()),
        **{name: getattr(new, name) for name in _FIELDS},
        "birth_date": new.birth_date.isoformat(),
        "first_names": json.dumps(new.first_names, ensure_ascii=False),
        "created_at": now,
        "updated_at": now,
        "created_by": actor.login,
        **search_columns(new.birth_name, new.used_name, new.first_names),
    }
    db["patients"].insert(row)
    audit.append(db, actor.event("patient.create", row["id"]))
    outbox.record(db, row["id"], Operation.CREATE, _change(row))
    return _from_row(row)


def likely_duplicates(db: Database, new: NewIdentity) -> list[Identity]:
    """Identities that are probably this person already: same birth date, a name and first name
    that sound the same. Creating a second identity for one resident is what identity rules
    fear most (two files, two histories), so creation asks for confirmation first."""
    columns = search_columns(new.birth_name, new.used_name, new.first_names)
    sounds = [s for s in (columns["birth_name_phon"], columns["used_name_phon"]) if s]
    rows = db.query(
        f"SELECT * FROM patients WHERE birth_date = ? AND first_name_phon = ? "
        f"AND (birth_name_phon IN ({marks(sounds)}) OR used_name_phon IN ({marks(sounds)})) ORDER BY created_at LIMIT 5",
        [new.birth_date.isoformat(), columns["first_name_phon"], *sounds, *sounds],
    )
    return [_from_row(row) for row in rows]


def create_unless_duplicate(db: Database, new: NewIdentity, actor: Actor, confirmed: bool) -> Identity | list[Identity]:
    """The new identity, or (unless `confirmed`) the likely duplicates found instead; audited as
    reads of those patients, since their names are shown."""
    duplicates = [] if confirmed else likely_duplicates(db, new)
    if duplicates:
        _audit_shown(db, actor, duplicates, "doublon probable signalé à la création", action="patient.read")
        return duplicates
    return create(db, new, actor)


def _row(db: Database, patient_id: str) -> dict | None:
    rows = list(db.query("SELECT * FROM patients WHERE id = ?", [patient_id]))
    return rows[0] if rows else None


def read(db: Database, patient_id: str, actor: Actor) -> Identity | None:
    row = _row(db, patient_id)
    if row is None:
        audit.append(db, actor.event("patient.read", patient_id[:64], outcome=audit.FAILURE, detail="identité introuvable"))
        return None
    audit.append(db, actor.event("patient.read", patient_id))
    return _from_row(row)


def update(db: Database, patient_id: str, changes: dict[str, Any], actor: Actor) -> Identity | None:
    """Apply `changes` (already validated; dates as date, first_names as a list); audited, queued."""
    row = _row(db, patient_id)
    if row is None:
        return None
    asked, changes = changes, {k: v for k, v in changes.items() if _stored(k, v) != row[k]}  # what really changes
    _check_status_rules(row, asked, changes)
    values = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in changes.items() if k != "first_names"}
    first_names = changes.get("first_names", json.loads(row["first_names"]))
    if "first_names" in changes:
        values["first_names"] = json.dumps(first_names, ensure_ascii=False)
    merged = row | values
    values |= search_columns(merged["birth_name"], merged["used_name"], first_names)
    values["updated_at"] = utc_now_iso()
    db["patients"].update(patient_id, values)
    requalified = " (nouvelle qualification)" if row["identity_status"] in FROM_INSI and set(changes) & set(STRICT_TRAITS) else ""
    audit.append(db, actor.event("patient.update", patient_id, detail=", ".join(sorted(changes)) + requalified))
    updated = row | values
    outbox.record(db, patient_id, Operation.UPDATE, _change(updated))
    return _from_row(updated)


def _stored(name: str, value: Any) -> Any:
    if name == "first_names":
        return json.dumps(value, ensure_ascii=False)
    return value.isoformat() if isinstance(value, date) else value


def _check_status_rules(row: dict[str, Any], asked: dict[str, Any], changes: dict[str, Any]) -> None:
    """A retrieved or qualified identity's strict traits change only with a new retrieval: the
    same request (`asked`, even where it repeats what is stored) brings the INS and the status the
    teleservice gave (RECUP or QUAL). Its contacts, used name, civility and address are the
    establishment's to correct. `changes`: what the request really changes."""
    strict = sorted(set(changes) & set(STRICT_TRAITS))
    status = asked.get("identity_status", row["identity_status"])
    if status in FROM_INSI and not asked.get("ins", row["ins"]):
        raise IdentityRefused("identity_needs_ins")
    retrieval = asked.get("identity_status") in FROM_INSI and bool(asked.get("ins"))  # what a new retrieval sends
    if strict and row["identity_status"] in FROM_INSI and not retrieval:
        raise IdentityRefused("identity_traits_locked", traits=", ".join(_TRAIT_WORDS[t] for t in strict))


_TRAIT_WORDS = {"birth_name": "nom de naissance", "first_names": "prénoms", "birth_date": "date de naissance", "sex": "sexe",
                "birth_insee": "commune de naissance", "birth_country": "pays de naissance", "ins": "INS"}


def list_recent(db: Database, actor: Actor, limit: int = 50, offset: int = 0) -> tuple[list[Identity], int]:
    total = db.execute("SELECT count(*) FROM patients").fetchone()[0]
    rows = db.query("SELECT * FROM patients ORDER BY updated_at DESC, id LIMIT ? OFFSET ?", [limit, offset])
    items = [_from_row(row) for row in rows]
    _audit_shown(db, actor, items, f"liste de {len(items)} sur {total}")
    return items, total


def _audit_shown(db: Database, actor: Actor, items: list[Identity], detail: str, action: str = "patient.list") -> None:
    # Each patient shown is an access to that patient's data.
    audit.append_many(db, [actor.event(action, item.id, detail=detail) for item in items])


@dataclass(frozen=True)
class SearchCriteria:
    name: str | None = None
    first_name: str | None = None
    birth_date: date | None = None
    ins: str | None = None
    sex: str | None = None
    mode: str = "exact"  # exact | approaching | phonetic

    def any(self) -> bool:
        return any((self.name, self.first_name, self.birth_date, self.ins, self.sex))


@dataclass
class _Query:
    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, clause: str, *params: Any) -> None:
        self.where.append(clause)
        self.params.extend(params)


def _candidates(db: Database, c: SearchCriteria) -> list[dict]:
    q = _Query()
    if c.birth_date:
        q.add("birth_date = ?", c.birth_date.isoformat())
    if c.ins:
        q.add("ins = ?", c.ins)
    if c.sex:
        q.add("sex = ?", c.sex)
    if c.mode == "approaching":
        _approaching(db, q, c)
    else:
        kind, form = ("norm", normalise) if c.mode == "exact" else ("phon", key)
        _holding(q, kind, [form(c.name)] if c.name else None, [form(c.first_name)] if c.first_name else None)
    clause = " AND ".join(q.where) or "1"
    cursor = db.conn.execute(f"SELECT {', '.join(SCORED)} FROM patients WHERE {clause}", q.params)
    return [dict(zip(SCORED, values)) for values in cursor]


SCORED = ("id", "birth_name_norm", "used_name_norm", "first_name_norm")  # the columns ranking reads


def _approaching(db: Database, q: _Query, c: SearchCriteria) -> None:
    """Candidates share the name's first two letters or its sound, as they always did; only those
    holding a name (and first name) spelt near enough to pass the scoring are read, through the
    indexes, instead of every candidate (names.py). The candidates' rule is kept as a filter: `+`
    keeps SQLite from reading the candidates by it."""
    if c.name:
        norm, phon = normalise(c.name), key(c.name)
        (birth, birth_range), (used, used_range) = (begins_with(f"+{column}", norm[:2]) for column in ("birth_name_norm", "used_name_norm"))
        q.add(f"({birth} OR {used} OR +birth_name_phon = ? OR +used_name_phon = ?)", *birth_range, *used_range, phon, phon)
    near = [sorted(spelt_near(db, normalise(asked), APPROACHING_THRESHOLD)) if asked else None for asked in (c.name, c.first_name)]
    _holding(q, "norm", *near)


def _holding(q: _Query, kind: str, names: list[str] | None, first_names: list[str] | None) -> None:
    """Rows whose birth or used name is one of `names` and whose first name one of `first_names`
    (None: any), one branch per name column, so that SQLite reads each branch from an index
    ((name, first name) when both are asked: migration 25) and only the rows that hold them."""
    first = f"first_name_{kind} IN ({marks(first_names)})" if first_names is not None else ""
    if names is None:
        if first_names is not None:
            q.add(first, *first_names)
        return
    branches = [" AND ".join(filter(None, (f"{column}_{kind} IN ({marks(names)})", first))) for column in ("birth_name", "used_name")]
    q.add(f"({' OR '.join(branches)})", *(2 * [*names, *(first_names or [])]))


def _name_score(row: dict, name: str) -> float:
    """Similarity 0-100 of a normalised name to the row's birth or used name (stored normalised)."""
    return max(fuzz.ratio(name, row["birth_name_norm"]), fuzz.ratio(name, row["used_name_norm"]) if row["used_name_norm"] else 0.0)


def _scores(row: dict, name: str | None, first_name: str | None) -> list[float]:
    """Similarities of the names asked for, normalised (dates, INS and sex were matched exactly in SQL)."""
    scores = []
    if name is not None:
        scores.append(_name_score(row, name))
    if first_name is not None:
        scores.append(float(fuzz.ratio(first_name, row["first_name_norm"])))
    return scores


def search(db: Database, c: SearchCriteria, actor: Actor, limit: int = 50, offset: int = 0) -> tuple[list[Identity], int]:
    """Identities matching `c`, best match first, with a match rate 0-100 (the mean similarity of the
    names asked for); (the page asked for, total number of matches)."""
    scored = []
    name, first_name = (normalise(asked) if asked else None for asked in (c.name, c.first_name))
    for row in _candidates(db, c):
        scores = _scores(row, name, first_name)
        if c.mode == "approaching" and any(score < APPROACHING_THRESHOLD for score in scores):
            continue
        scored.append((round(sum(scores) / len(scores), 2) if scores else 100.0, row))
    return ranked_page(db, scored, actor, limit, offset, f"recherche ({c.mode})")


def ranked_page(db: Database, scored: list[tuple[float, dict]], actor: Actor, limit: int, offset: int,
                detail: str) -> tuple[list[Identity], int]:
    """The page asked for of (match, candidate row) pairs, best match first, read whole and audited."""
    scored.sort(key=lambda item: (-item[0], item[1]["birth_name_norm"], item[1]["id"]))
    shown = scored[offset:offset + limit]
    full = {row["id"]: row for row in db.query(
        f"SELECT * FROM patients WHERE id IN ({marks(shown)})", [row["id"] for _, row in shown])}
    page = [_from_row(full[row["id"]], match) for match, row in shown]
    _audit_shown(db, actor, page, f"{detail} : {len(page)} sur {len(scored)}", action="patient.search")
    return page, len(scored)
