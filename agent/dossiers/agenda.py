"""The cart's agenda (seed 000 §2.2: a consultation is created from the agenda by tapping a free
slot): the teleconsultations of a day or a week, in the cart's time zone. The cart is one shared
resource, so there is one agenda, not one per doctor.

Each consultation comes with what the nurse plans with: its time and length, its room's window,
the consultations it overlaps (the cart cannot be in two rooms), and who is invited with what
became of their invitation: the message sent, waiting or failed (the delivery queue), the link
opened, the dossier read by the doctor, the room entered (the audit trail records each of these;
who is in a room right now is the pulse's). Nobody answers an invitation in this model (there is
no "I accept"): what is known is what the person did with their link.

Reading it is an access to each resident shown: audited as the activity view's list is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from agent import audit
from agent.audit import Actor
from agent.clock import parse_iso
from agent.dossiers.directory import doctor_name
from agent.dossiers.dossier import DEFAULT_MINUTES_NOW, STATE_LABELS, DossierState
from agent.links import invitation
from agent.links.invitation import ParticipantRole
from agent.notify import queue as deliveries

# Drafts have no slot the cart keeps; a cancelled consultation gives its slot back.
SHOWN_STATES = (DossierState.SCHEDULED.value, DossierState.IN_PROGRESS.value, DossierState.AWAITING_REPORT.value,
                DossierState.CLOSED.value)
LONGEST_SLOT = timedelta(minutes=240)  # api/schemas/dossiers.SlotIn's bound: how far back a slot may start and still reach the window

# What the audit trail says a participant did with their link (agent/links/invitation.open_link,
# agent/links/specialist_access._new_session).
ENTERED_ROOM = "entrée dans la salle de téléconsultation"
OPENED = ("lien ouvert, salle ouverte", "lien refusé : not_yet")


@dataclass(frozen=True)
class Window:
    """[start, end) of the agenda: local midnights in the cart's zone (a day of 23 or 25 hours when
    the clocks change)."""

    first_day: date
    days: int
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.first_day + timedelta(days=self.days), time(0), self.zone)


@dataclass
class Invitee:
    participant_id: int
    name: str
    role: str
    role_label: str
    revoked: bool
    delivery: str  # sent (one message left), pending, failed (every try failed), none
    channels: list[dict[str, Any]]
    opened_link: bool = False
    read_dossier: bool = False
    entered_room: bool = False


@dataclass
class AgendaItem:
    id: str
    patient_id: str
    resident: str
    state: DossierState
    reason: str | None
    specialist: str | None
    specialty: str | None
    start: datetime
    minutes: int
    room_opens_at: datetime | None
    room_closes_at: datetime | None
    overlaps: list[str] = field(default_factory=list)
    invitees: list[Invitee] = field(default_factory=list)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


def consultations(db: Database, window: Window, actor: Actor) -> list[AgendaItem]:
    """The consultations that start within the window (a consultation belongs to the day it starts
    on, in the cart's zone), by start; each one an audited access to its resident."""
    start_utc, end_utc = window.start.astimezone(UTC), window.end.astimezone(UTC)
    rows = db.query(
        f"""SELECT d.id, d.patient_id, d.state, d.reason, d.specialist, d.specialty, d.slot_start, d.slot_minutes,
                   coalesce(p.used_name, p.birth_name) AS name, json_extract(p.first_names, '$[0]') AS first_name,
                   r.id AS room_id, r.opens_at, r.closes_at
            FROM dossiers d JOIN patients p ON p.id = d.patient_id LEFT JOIN rooms r ON r.dossier_id = d.id
            WHERE d.slot_start IS NOT NULL AND d.state IN ({", ".join("?" * len(SHOWN_STATES))})
            ORDER BY d.slot_start""",
        list(SHOWN_STATES))
    items: list[AgendaItem] = []
    rooms: dict[str, str] = {}
    for r in rows:
        start = parse_iso(r["slot_start"])
        if not (start_utc <= start < end_utc):
            continue
        items.append(AgendaItem(
            id=r["id"], patient_id=r["patient_id"], resident=f"{r['name'].upper()} {r['first_name'] or ''}".strip(),
            state=DossierState(r["state"]), reason=r["reason"], specialist=r["specialist"], specialty=r["specialty"],
            start=start, minutes=r["slot_minutes"] or DEFAULT_MINUTES_NOW,
            room_opens_at=parse_iso(r["opens_at"]) if r["opens_at"] else None,
            room_closes_at=parse_iso(r["closes_at"]) if r["closes_at"] else None))
        if r["room_id"]:
            rooms[r["room_id"]] = r["id"]
    _mark_overlaps(items)
    _add_invitees(db, items, rooms)
    audit.append_many(db, [actor.event("dossier.list", item.patient_id, detail=f"agenda, télédossier n° {item.id[:8]}") for item in items])
    return items


def _mark_overlaps(items: list[AgendaItem]) -> None:
    """Two consultations overlap when their slots share a moment: the cart would have to be in two
    rooms. Ended ones count too: the agenda shows what happened, and a past clash is one."""
    for i, one in enumerate(items):
        for other in items[i + 1:]:
            if one.start < other.end and other.start < one.end:
                one.overlaps.append(other.id)
                other.overlaps.append(one.id)


def _add_invitees(db: Database, items: list[AgendaItem], rooms: dict[str, str]) -> None:
    if not items:
        return
    by_id = {item.id: item for item in items}
    rows = db.execute(
        """SELECT i.id, i.room_id, i.participant_id, i.revoked_at, i.created_at, p.role, p.name, p.first_name
           FROM invitations i JOIN participants p ON p.id = i.participant_id
           WHERE i.room_id IN (SELECT value FROM json_each(?)) ORDER BY i.created_at""", [json.dumps(list(rooms))]).fetchall()
    statuses = deliveries.status_for(db, [r[0] for r in rows])
    records = _link_records(db, sorted({item.patient_id for item in items}))
    # One line per person: their latest invitation (a revoked link followed by a new one is the new one).
    latest: dict[tuple[str, int], tuple[Any, ...]] = {}
    tried: dict[tuple[str, int], list[Any]] = {}
    first_invited: dict[tuple[str, int], str] = {}
    for row in rows:
        key = (row[1], row[2])
        latest[key] = row
        tried.setdefault(key, []).extend(statuses.get(row[0], []))
        first_invited.setdefault(key, row[4])
    for key, (_, room_id, participant_id, revoked_at, _, role, name, first_name) in latest.items():
        item = by_id[rooms[room_id]]
        person_role = ParticipantRole(role)
        invitee = Invitee(
            participant_id=participant_id, name=invitation.shown_name(person_role, name, first_name), role=role,
            role_label=invitation.ROLE_LABELS[person_role], revoked=bool(revoked_at), delivery=_delivery_state(tried[key]),
            channels=[{"channel": s.channel, "state": s.state, "last_error": s.last_error} for s in tried[key]])
        if name:  # an unnamed invitee's records name the invitation only, not the person
            _what_they_did(records.get(item.patient_id, []), item, invitee, person_role, name, first_name, first_invited[key])
        item.invitees.append(invitee)
    for item in items:  # the doctor first, then the others as invited
        item.invitees.sort(key=lambda person: person.role != ParticipantRole.SPECIALIST.value)


def _delivery_state(tried: list[Any]) -> str:
    """sent: a message reached the relay or the gateway; pending: one still waits; failed: every
    one failed; none: nothing was sent (a companion at the cart)."""
    if any(s.state == "sent" for s in tried):
        return "sent"
    if any(s.state == "pending" for s in tried):
        return "pending"
    return "failed" if tried else "none"


def _link_records(db: Database, patient_ids: list[str]) -> dict[str, list[tuple[datetime, str, str, str | None]]]:
    """The audit trail's records of links used, per resident: (at, action, actor, detail)."""
    found: dict[str, list[tuple[datetime, str, str, str | None]]] = {}
    for patient_id, at, action, actor, detail in db.execute(
            """SELECT patient_id, at, action, actor, detail FROM audit
               WHERE patient_id IN (SELECT value FROM json_each(?)) AND outcome = ? AND action IN ('invitation.open', 'link.login')""",
            [json.dumps(patient_ids), audit.SUCCESS]).fetchall():
        found.setdefault(patient_id, []).append((parse_iso(at), action, actor, detail))
    return found


def _what_they_did(records: list[tuple[datetime, str, str, str | None]], item: AgendaItem, invitee: Invitee,
                   role: ParticipantRole, name: str, first_name: str | None, invited_at: str) -> None:
    """The link opened, the dossier read, the room entered, as the audit trail recorded them under
    this resident, by this person, between their first invitation and the room's closing (which
    tells apart two consultations of the same resident with the same doctor)."""
    who = f"{name.upper()} {first_name or ''}".strip() + f" ({invitation.ROLE_LABELS[role]})"
    doctor = doctor_name(name, first_name)
    since, until = parse_iso(invited_at), item.room_closes_at or item.end
    for at, action, actor, detail in records:
        if action == "link.login":  # the doctor signed in to the dossier's page; its detail names the dossier
            if actor == doctor and role is ParticipantRole.SPECIALIST and (detail or "").startswith(f"télédossier n° {item.id[:8]}"):
                invitee.read_dossier = invitee.opened_link = True
        elif actor == who and since <= at <= until:
            if detail == ENTERED_ROOM:
                invitee.entered_room = invitee.opened_link = True
            elif detail in OPENED:
                invitee.opened_link = True
