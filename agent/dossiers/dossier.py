"""Teleconsultation dossiers (télédossiers): created by the wizard of seed 000 §2.2, then moved
through their states by the call and the report.

Creation is one transaction: consent, dossier, room, participants, invitations and the emails and
SMS that carry them. Anything wrong refuses the whole; nothing is saved half-way.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from agent import audit
from agent.audit import Actor
from agent.clock import clock_time, iso, parse_iso, utc_now_iso
from agent.dossiers import directory
from agent.links import invitation
from agent.links.invitation import ParticipantRole, Settings, Window
from agent.notify import queue as deliveries
from agent.refusal import CountedRefusal, Refused
from agent.store import outbox
from agent.store.changes import ConsentChange, DossierChange, DossierStateChange, Operation


class DossierState(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    AWAITING_REPORT = "awaiting_report"
    CLOSED = "closed"
    CANCELLED = "cancelled"


STATE_LABELS = {
    DossierState.DRAFT: "Brouillon", DossierState.SCHEDULED: "Programmée", DossierState.IN_PROGRESS: "En cours",
    DossierState.AWAITING_REPORT: "En attente du compte rendu", DossierState.CLOSED: "Clôturée",
    DossierState.CANCELLED: "Annulée",
}

# The life of a dossier. A call may resume while the report is awaited (same room window); a
# specialist may sign during the call. Nothing leaves "closed": signed parts are final.
TRANSITIONS: dict[DossierState, frozenset[DossierState]] = {
    DossierState.DRAFT: frozenset({DossierState.SCHEDULED}),
    DossierState.SCHEDULED: frozenset({DossierState.IN_PROGRESS, DossierState.CANCELLED}),
    DossierState.IN_PROGRESS: frozenset({DossierState.AWAITING_REPORT, DossierState.CLOSED, DossierState.CANCELLED}),
    DossierState.AWAITING_REPORT: frozenset({DossierState.IN_PROGRESS, DossierState.CLOSED, DossierState.CANCELLED}),
    DossierState.CLOSED: frozenset(),
    DossierState.CANCELLED: frozenset(),
}
# States only one act reaches (seed 001 §4): the consulted doctor's signature closes a dossier
# (agent/dossiers/fiche.sign); the EHPAD cancels one with a reason (`cancel`). Never a bare move.
REACHED_BY = {DossierState.CLOSED: "signature", DossierState.CANCELLED: "cancellation"}
ENDED = frozenset({DossierState.CLOSED, DossierState.CANCELLED})

ACCOMPANIMENT_ROLES = {"relative": ParticipantRole.RELATIVE, "professional": ParticipantRole.PROFESSIONAL}
DEFAULT_MINUTES_NOW = 30


TELECONSULTATION, TELEEXPERTISE = "teleconsultation", "teleexpertise"


class DossierRefused(Refused):
    """A rule of the dossier refused the request."""


class SlotTaken(CountedRefusal):
    """Another consultation holds the cart then. The refusal names it, a reading of that resident's
    data: its audit record stands although nothing else is written."""


@dataclass(frozen=True)
class NewDossier:
    patient_id: str
    consent_given: bool
    consent_comment: str | None
    accompaniment: str  # alone, relative, professional
    companion: dict[str, Any] | None  # name, first_name, remote, email, mobile
    specialist: dict[str, Any]  # name, first_name, specialty, rpps, email, mobile | directory_id
    slot_start: datetime | None  # None: now
    slot_minutes: int = DEFAULT_MINUTES_NOW
    reason: str | None = None
    confirm_overlap: bool = False  # the nurse read which consultation already holds the cart then, and goes on
    # A téléexpertise (an opinion in writing, no call): no slot, the answer awaited by `deadline`.
    kind: str = TELECONSULTATION
    deadline: datetime | None = None
    question: str | None = None


# While a consultation is planned or running it holds the cart: one cart is in one room at a time.
HOLDS_THE_CART = (DossierState.SCHEDULED.value, DossierState.IN_PROGRESS.value)


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
    specialist_directory_id: int | None = None  # who the doctor is, beyond their name: the same-doctor warning
    specialist_rpps: str | None = None
    not_reached: list[dict[str, Any]] = field(default_factory=list)  # invited, no message of theirs sent yet


@dataclass
class Dossier:
    """One dossier as its page shows it."""

    id: str
    state: DossierState
    patient: dict[str, Any]
    reason: str | None
    consent: dict[str, Any]
    accompaniment: dict[str, Any]
    specialist: dict[str, Any] | None
    slot: dict[str, Any] | None
    room: dict[str, Any] | None
    invitations: list[dict[str, Any]] = field(default_factory=list)
    fiche: dict[str, Any] = field(default_factory=dict)
    vitals: list[dict[str, Any]] = field(default_factory=list)  # filled by the caller (agent/fiche.py)
    documents: list[dict[str, Any]] = field(default_factory=list)  # filled by the caller (agent/dossier_documents.py)
    from_region: list[dict[str, Any]] = field(default_factory=list)  # filled by the caller (agent/dossiers/from_region.py)
    created_at: str = ""
    created_by: str | None = None
    updated_at: str = ""
    cancellation: dict[str, Any] | None = None  # reason, by, at
    version: str = ""  # version_of(): filled by the caller (agent/dossiers/view.py)
    kind: str = TELECONSULTATION
    expertise: dict[str, Any] | None = None  # a téléexpertise's question and deadline (ISO)

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


def _resolve_specialist(db: Database, chosen: dict[str, Any]) -> dict[str, Any]:
    if chosen.get("directory_id") is None:
        return chosen
    found = directory.read(db, chosen["directory_id"])
    if found is None or not found.active:
        raise DossierRefused("specialist_unknown")
    if not (found.email or found.mobile):
        raise DossierRefused("specialist_unreachable", name=found.display_name)
    return {"name": found.name, "first_name": found.first_name, "specialty": found.specialty, "rpps": found.rpps,
            "email": found.email, "mobile": found.mobile, "directory_id": found.id}


def create(db: Database, new: NewDossier, actor: Actor, settings: Settings, now: datetime) -> Dossier:
    patient = db.execute("SELECT id FROM patients WHERE id = ?", [new.patient_id]).fetchone()
    if patient is None:
        raise DossierRefused("patient_unknown")
    specialist = _resolve_specialist(db, new.specialist)
    expertise = new.kind == TELEEXPERTISE
    start = new.slot_start or now
    if expertise:  # the expert's link opens the dossier from now until the deadline (and the report time after)
        if new.deadline is None or new.deadline <= now + timedelta(minutes=30):
            raise DossierRefused("deadline_too_close")
        window, others = Window(now, new.deadline), []
    else:
        if start < now - timedelta(minutes=5):
            raise DossierRefused("slot_in_past")
        window = invitation.window_for_slot(start, new.slot_minutes, settings.opens_before_minutes, settings.stays_open_minutes)
        if new.slot_start is None:  # "now": the room opens at once
            window = Window(now, window.closes_at)
        others = overlapping(db, start, start + timedelta(minutes=new.slot_minutes))
    if others and not new.confirm_overlap:
        audit.append_many(db, [actor.event("dossier.list", o.patient_id, detail=f"créneau déjà pris par le télédossier n° {o.dossier_id[:8]}")
                               for o in others])
        raise SlotTaken("slot_overlap", other=others[0].described(settings.zone), overlaps=[o.public() for o in others])

    dossier_id = str(uuid.uuid4())
    stamp = utc_now_iso()
    db["consents"].insert({
        "dossier_id": dossier_id, "patient_id": new.patient_id, "given": int(new.consent_given),
        "comment": new.consent_comment, "collected_by": actor.login, "collected_at": stamp,
    })
    outbox.record(db, dossier_id, Operation.CREATE, ConsentChange(
        dossier_id=dossier_id, patient_id=new.patient_id, given=new.consent_given, comment=new.consent_comment, collected_at=stamp))
    row = {
        # A téléexpertise is under way from the start: the expert may answer at once.
        "id": dossier_id, "patient_id": new.patient_id, "reason": new.reason,
        "state": (DossierState.IN_PROGRESS if expertise else DossierState.SCHEDULED).value,
        "specialist": directory.doctor_name(specialist["name"], specialist.get("first_name")), "specialty": specialist.get("specialty"),
        "slot_start": None if expertise else iso(start), "slot_minutes": None if expertise else new.slot_minutes,
        "accompaniment": new.accompaniment, "created_at": stamp, "updated_at": stamp, "created_by": actor.login,
    }
    db["dossiers"].insert(row)
    outbox.record(db, dossier_id, Operation.CREATE, DossierChange(**{k: row[k] for k in DossierChange.model_fields}))
    room_id = invitation.create_room(db, window, actor, dossier_id)
    specialist_id = invitation.add_participant(db, room_id, ParticipantRole.SPECIALIST, specialist)
    db["dossiers"].update(dossier_id, {"specialist_id": specialist_id, "kind": new.kind, "question": new.question,
                                       "deadline": iso(new.deadline) if expertise and new.deadline else None})
    to_invite = [specialist_id]
    if new.accompaniment in ACCOMPANIMENT_ROLES and new.companion:
        remote = bool(new.companion.get("remote"))
        companion_id = invitation.add_participant(db, room_id, ACCOMPANIMENT_ROLES[new.accompaniment], new.companion, remote=remote)
        if remote:
            to_invite.append(companion_id)

    consent_text = "consentement recueilli" if new.consent_given else f"consentement non recueilli : {new.consent_comment}"
    overlap_text = "".join(f", chevauche le télédossier n° {o.dossier_id[:8]} (confirmé)" for o in others)
    audit.append_many(db, [
        actor.event("consent.record", new.patient_id, detail=f"télédossier n° {dossier_id[:8]}, {consent_text}"),
        actor.event("dossier.create", new.patient_id, detail=f"télédossier n° {dossier_id[:8]}, "
                    + (f"téléexpertise, avis attendu avant le {iso(new.deadline)}" if expertise and new.deadline else f"programmé{overlap_text}")),
    ])
    for participant_id in to_invite:
        invitation.send_invitation(db, invitation.invite(db, participant_id, actor), actor, settings, new.patient_id)
    return load(db, dossier_id, settings)  # type: ignore[return-value]


@dataclass(frozen=True)
class Overlap:
    """A consultation that holds the cart when another is asked for."""

    dossier_id: str
    patient_id: str
    resident: str
    specialist: str | None
    start: datetime
    end: datetime

    def described(self, zone: ZoneInfo) -> str:
        """As the nurse recognises it: its resident, its doctor, its time."""
        return (f"{self.resident} avec {self.specialist or 'le médecin requis'}, de {clock_time(self.start, zone)} "
                f"à {clock_time(self.end, zone)}")

    def public(self) -> dict[str, Any]:
        """What the refusal's answer shows (api/schemas/common.OverlapOut): no patient id."""
        return {"dossier_id": self.dossier_id, "resident": self.resident, "specialist": self.specialist,
                "start": iso(self.start), "end": iso(self.end)}


def overlapping(db: Database, start: datetime, end: datetime) -> list[Overlap]:
    """The consultations that hold the cart at some moment of [start, end)."""
    rows = db.execute(
        f"""SELECT d.id, d.patient_id, d.slot_start, d.slot_minutes, d.specialist, coalesce(p.used_name, p.birth_name) AS name,
                   json_extract(p.first_names, '$[0]') AS first_name
            FROM dossiers d JOIN patients p ON p.id = d.patient_id
            WHERE d.state IN ({", ".join("?" * len(HOLDS_THE_CART))}) AND d.slot_start IS NOT NULL ORDER BY d.slot_start""",
        HOLDS_THE_CART).fetchall()
    found = []
    for dossier_id, patient_id, slot_start, minutes, specialist, name, first_name in rows:
        other_start = parse_iso(slot_start)
        other_end = other_start + timedelta(minutes=minutes or DEFAULT_MINUTES_NOW)
        if other_start < end and start < other_end:
            found.append(Overlap(dossier_id, patient_id, f"{name.upper()} {first_name or ''}".strip(), specialist, other_start, other_end))
    return found


def _invitations(db: Database, room_id: str, settings: Settings) -> list[dict[str, Any]]:
    rows = list(db.query(
        """SELECT i.*, p.role, p.name, p.first_name, p.email, p.mobile, p.specialty
           FROM invitations i JOIN participants p ON p.id = i.participant_id WHERE i.room_id = ? ORDER BY i.created_at""",
        [room_id],
    ))
    statuses = deliveries.status_for(db, [r["id"] for r in rows])
    key = invitation.signing_key(db)
    live = {r["participant_id"] for r in rows if not r["revoked_at"]}  # whose link works today
    return [
        {
            "id": r["id"], "participant_id": r["participant_id"], "renewed": bool(r["revoked_at"]) and r["participant_id"] in live,
            "role": r["role"], "role_label": invitation.ROLE_LABELS[ParticipantRole(r["role"])],
            "shown_name": invitation.shown_name(ParticipantRole(r["role"]), r["name"], r["first_name"]),
            "name": r["name"], "first_name": r["first_name"], "email": r["email"], "mobile": r["mobile"],
            "created_at": r["created_at"], "revoked_at": r["revoked_at"], "sends": r["sends"],
            "link": invitation.link_url(settings.public_url, key, room_id, r["id"]),
            "deliveries": [_delivery(s) for s in statuses.get(r["id"], [])],
        }
        for r in rows
    ]


def _delivery(status: Any) -> dict[str, Any]:
    return {k: getattr(status, k) for k in ("channel", "recipient", "state", "attempts", "last_error", "sent_at")}


def load(db: Database, dossier_id: str, settings: Settings) -> Dossier | None:
    """The dossier, unaudited: for callers that audit their own use of it (`read`, the report)."""
    rows = list(db.query(
        """SELECT d.*, coalesce(p.used_name, p.birth_name) AS p_name, json_extract(p.first_names, '$[0]') AS p_first,
                  p.birth_date AS p_birth, p.sex AS p_sex, c.given, c.comment, c.collected_by, c.collected_at,
                  r.id AS room_id, r.opens_at, r.closes_at, u.display_name AS collector_name
           FROM dossiers d JOIN patients p ON p.id = d.patient_id JOIN consents c ON c.dossier_id = d.id
                LEFT JOIN rooms r ON r.dossier_id = d.id LEFT JOIN users u ON u.login = c.collected_by
           WHERE d.id = ?""",
        [dossier_id],
    ))
    if not rows:
        return None
    r = rows[0]
    participants = list(db.query("SELECT * FROM participants WHERE room_id = ? ORDER BY id", [r["room_id"]])) if r["room_id"] else []
    specialist = next((p for p in participants if p["id"] == r["specialist_id"]), None)
    # The companion the wizard recorded: the first participant of the accompaniment's role. Someone
    # invited later (a relative during the call) is a participant, never the resident's companion.
    companion_role = ACCOMPANIMENT_ROLES.get(r["accompaniment"] or "alone")
    companion = next((p for p in participants if companion_role and p["role"] == companion_role.value), None)
    person_keys = ("name", "first_name", "specialty", "rpps", "email", "mobile", "directory_id")
    return Dossier(
        id=r["id"], state=DossierState(r["state"]), reason=r["reason"],
        patient={"id": r["patient_id"], "display_name": f"{r['p_name'].upper()} {r['p_first']}", "birth_date": r["p_birth"], "sex": r["p_sex"]},
        consent={"given": bool(r["given"]), "comment": r["comment"], "collected_by": r["collected_by"], "collected_at": r["collected_at"],
                 "collected_by_name": r["collector_name"] or r["collected_by"]},
        accompaniment={
            "kind": r["accompaniment"] or "alone",
            "companion": {**{k: companion[k] for k in ("name", "first_name", "email", "mobile")}, "remote": bool(companion["remote"])}
            if companion else None,
        },
        specialist={**{k: specialist[k] for k in person_keys}, "display_name": directory.doctor_name(specialist["name"], specialist["first_name"])}
        if specialist else
        ({"name": r["specialist"], "specialty": r["specialty"]} if r["specialist"] else None),
        slot={"start": r["slot_start"], "duration_minutes": r["slot_minutes"]} if r["slot_start"] else None,
        room={"id": r["room_id"], "opens_at": r["opens_at"], "closes_at": r["closes_at"]} if r["room_id"] else None,
        invitations=_invitations(db, r["room_id"], settings) if r["room_id"] else [],
        fiche={k: r[k] for k in ("reason", "history", "observations", "expert_opinion", "signed_by", "signed_at")},
        cancellation={"reason": r["cancel_reason"], "by": r["cancelled_by"], "at": r["cancelled_at"]} if r["cancelled_at"] else None,
        created_at=r["created_at"], created_by=r["created_by"], updated_at=r["updated_at"],
        kind=r["kind"], expertise={"question": r["question"], "deadline": r["deadline"]} if r["kind"] == TELEEXPERTISE else None,
    )


def read(db: Database, dossier_id: str, actor: Actor, settings: Settings) -> Dossier | None:
    found = load(db, dossier_id, settings)
    if found is None:
        audit.append(db, actor.event("dossier.read", None, outcome=audit.FAILURE, detail=f"télédossier {dossier_id[:40]} introuvable"))
        return None
    audit.append(db, actor.event("dossier.read", found.patient["id"], detail=f"télédossier n° {found.id[:8]}"))
    return found


def transition(db: Database, dossier_id: str, to: DossierState, actor: Actor, by: str | None = None) -> DossierState:
    """Move a dossier to its next state; refused when the state machine does not allow it, or when
    the state is one that only an act reaches (`REACHED_BY`) and `by` is not that act."""
    row = db.execute("SELECT state, patient_id FROM dossiers WHERE id = ?", [dossier_id]).fetchone()
    if row is None:
        raise DossierRefused("not_found")
    current = DossierState(row[0])
    if to not in TRANSITIONS[current]:
        raise DossierRefused("bad_transition", current=STATE_LABELS[current], wanted=STATE_LABELS[to])
    if to in REACHED_BY and by != REACHED_BY[to]:
        raise DossierRefused("closed_by_signature_only" if to is DossierState.CLOSED else "cancel_needs_reason")
    db["dossiers"].update(dossier_id, {"state": to.value, "updated_at": utc_now_iso()})
    if to in ENDED:  # an ended dossier's fiche reads only: nobody's draft of it is kept (agent/dossiers/fiche_draft.py)
        db.execute("DELETE FROM fiche_drafts WHERE dossier_id = ?", [dossier_id])
    audit.append(db, actor.event("dossier.state", row[1], detail=f"télédossier n° {dossier_id[:8]} : {STATE_LABELS[current]} → {STATE_LABELS[to]}"))
    outbox.record(db, dossier_id, Operation.STATE, DossierStateChange(state=to.value))
    return to


def kind_of(db: Database, dossier_id: str) -> str | None:
    row = db.execute("SELECT kind FROM dossiers WHERE id = ?", [dossier_id]).fetchone()
    return row[0] if row else None


def open_dossier(db: Database, dossier_id: str) -> dict[str, Any]:
    """The dossier's row, for an act that adds to it or changes it: refused when there is no such
    dossier, or when it is signed or cancelled."""
    rows = list(db.query("SELECT * FROM dossiers WHERE id = ?", [dossier_id]))
    if not rows:
        raise DossierRefused("not_found")
    refuse_if_ended(rows[0]["state"], rows[0]["signed_by"])
    return rows[0]


def refuse_if_ended(state: str, signed_by: str | None = None) -> None:
    """A signed or cancelled dossier is read-only: nothing is added to it, nothing changes in it."""
    if state == DossierState.CLOSED.value:
        raise DossierRefused("dossier_closed", signed_by=signed_by or "le médecin requis")
    if state == DossierState.CANCELLED.value:
        raise DossierRefused("dossier_cancelled")


def cancel(db: Database, dossier_id: str, reason: str, actor: Actor) -> None:
    """The EHPAD calls a teleconsultation off, saying why: the dossier is kept, read-only, and
    every link it sent stops opening."""
    transition(db, dossier_id, DossierState.CANCELLED, actor, by="cancellation")
    row = db["dossiers"].get(dossier_id)
    db["dossiers"].update(dossier_id, {"cancel_reason": reason, "cancelled_by": actor.login, "cancelled_at": utc_now_iso()})
    audit.append(db, actor.event("dossier.cancel", row["patient_id"], detail=f"télédossier n° {dossier_id[:8]} : {reason}"))
    outbox.record(db, dossier_id, Operation.STATE, DossierStateChange(state=DossierState.CANCELLED.value, reason=reason))
    for (invitation_id,) in db.execute("SELECT i.id FROM invitations i JOIN rooms r ON r.id = i.room_id "
                                       "WHERE r.dossier_id = ? AND i.revoked_at IS NULL", [dossier_id]).fetchall():
        invitation.revoke(db, invitation_id, actor)


def resend(db: Database, dossier_id: str, invitation_id: str, actor: Actor, settings: Settings) -> None:
    row = _invitation_of(db, dossier_id, invitation_id)
    if row["revoked_at"]:
        raise DossierRefused("invitation_revoked")
    # The new sending replaces what still waits: the person gets the link once, not once per tap.
    deliveries.cancel_pending(db, invitation_id, invitation.REPLACED)
    invitation.send_invitation(db, invitation_id, actor, settings, row["patient_id"])
    outbox.record(db, invitation_id, Operation.SEND, invitation.change_of(db, invitation_id))


def reinvite(db: Database, dossier_id: str, invitation_id: str, actor: Actor, settings: Settings) -> tuple[str, int]:
    """After « Révoquer le lien », « Inviter de nouveau »: the same person gets a new link (the
    revoked one stays dead). Returns (room, participant) so that a live room lets them in again."""
    row = _invitation_of(db, dossier_id, invitation_id)
    open_dossier(db, dossier_id)
    if not row["revoked_at"]:
        raise DossierRefused("invitation_live")
    renewed = invitation.invite(db, row["participant_id"], actor)
    invitation.send_invitation(db, renewed, actor, settings, row["patient_id"])
    audit.append(db, actor.event("invitation.reinvite", row["patient_id"], detail=f"télédossier n° {dossier_id[:8]}"))
    return row["room_id"], row["participant_id"]


def invite_participant(db: Database, dossier_id: str, role: ParticipantRole, person: dict[str, Any], actor: Actor,
                       settings: Settings) -> str:
    """One more remote participant in the dossier's room (a relative, another professional),
    invited at once; returns the invitation's id."""
    rows = list(db.query("SELECT d.state, d.signed_by, d.patient_id, r.id AS room_id FROM dossiers d JOIN rooms r ON r.dossier_id = d.id "
                         "WHERE d.id = ?", [dossier_id]))
    if not rows:
        raise DossierRefused("not_found")
    refuse_if_ended(rows[0]["state"], rows[0]["signed_by"])
    participant_id = invitation.add_participant(db, rows[0]["room_id"], role, person)
    invitation_id = invitation.invite(db, participant_id, actor)
    invitation.send_invitation(db, invitation_id, actor, settings, rows[0]["patient_id"])
    return invitation_id


def participant_of(db: Database, invitation_id: str) -> tuple[str, int] | None:
    """(room, participant) of an invitation: whom to take out of a live room when it is revoked."""
    row = db.execute("SELECT room_id, participant_id FROM invitations WHERE id = ?", [invitation_id]).fetchone()
    return (row[0], row[1]) if row else None


def revoke(db: Database, dossier_id: str, invitation_id: str, actor: Actor) -> None:
    row = _invitation_of(db, dossier_id, invitation_id)
    if invitation.revoke(db, invitation_id, actor):
        audit.append(db, actor.event("invitation.revoke", row["patient_id"], detail=f"télédossier n° {dossier_id[:8]}"))


def _invitation_of(db: Database, dossier_id: str, invitation_id: str) -> dict[str, Any]:
    rows = list(db.query(
        """SELECT i.*, d.patient_id FROM invitations i JOIN rooms r ON r.id = i.room_id JOIN dossiers d ON d.id = r.dossier_id
           WHERE i.id = ? AND d.id = ?""", [invitation_id, dossier_id]))
    if not rows:
        raise DossierRefused("not_found")
    return rows[0]


def _not_reached(db: Database, dossier_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Per dossier, the people invited (link not revoked) to whom no message has left yet, with
    what waits or failed: the activity says « Dr Petit n'a pas reçu le lien » rather than nothing."""
    rows = db.execute(
        """SELECT r.dossier_id, i.id, p.role, p.name, p.first_name FROM invitations i JOIN rooms r ON r.id = i.room_id
           JOIN participants p ON p.id = i.participant_id
           WHERE i.revoked_at IS NULL AND r.dossier_id IN (SELECT value FROM json_each(?))""", [json.dumps(dossier_ids)]).fetchall()
    statuses = deliveries.status_for(db, [r[1] for r in rows])
    found: dict[str, list[dict[str, Any]]] = {}
    for dossier_id, invitation_id, role, name, first_name in rows:
        sent = statuses.get(invitation_id, [])
        if not any(s.state == "sent" for s in sent):
            found.setdefault(dossier_id, []).append({
                "name": invitation.shown_name(ParticipantRole(role), name, first_name),
                "deliveries": [{"channel": s.channel, "state": s.state, "last_error": s.last_error} for s in sent]})
    return found


def activity_version(db: Database) -> str:
    """Changes whenever the activity view would show something else: a dossier made or changed, an
    invitation revoked, a message queued, sent or failed. Counts and times only, no health data:
    the kiosk asks for it every few seconds and reads the list (an audited access) only when it
    changes."""
    dossiers = db.execute("SELECT count(*), coalesce(max(updated_at), '') FROM dossiers").fetchone()
    invitations = db.execute("SELECT count(*), count(revoked_at) FROM invitations").fetchone()
    deliveries = db.execute("SELECT coalesce(max(id), 0), coalesce(sum(state = 'sent'), 0), "
                            "coalesce(sum(state = 'failed'), 0) FROM deliveries").fetchone()
    return "-".join(str(v) for v in (*dossiers, *invitations, *deliveries))


def version_of(db: Database, dossier_id: str) -> str | None:
    """Changes whenever the dossier's page would show something else: its fiche saved, the
    expert's opinion or signature, its state, a vital, a document, what the region sent, an
    invitation revoked, a message sent or failed. Counts and times only, like activity_version: the open page
    asks for it with the pulse and reads the dossier (an audited access) only when it moves.
    None when the dossier is not on the cart (never was, or purged)."""
    row = db.execute(
        """SELECT d.state, d.updated_at, d.signed_at, d.cancelled_at,
                  (SELECT count(*) || '.' || coalesce(max(added_at), '') || '.' || coalesce(max(signed_at), '')
                   FROM documents WHERE dossier_id = d.id),
                  (SELECT count(*) || '.' || coalesce(max(received_at), '') FROM region_items WHERE dossier_id = d.id),
                  (SELECT count(*) || '.' || coalesce(max(id), 0) FROM vitals WHERE dossier_id = d.id),
                  (SELECT count(*) || '.' || count(i.revoked_at) FROM invitations i JOIN rooms r ON r.id = i.room_id
                   WHERE r.dossier_id = d.id),
                  (SELECT coalesce(max(x.id), 0) || '.' || coalesce(sum(x.attempts), 0) || '.' || coalesce(sum(x.state = 'sent'), 0)
                          || '.' || coalesce(sum(x.state = 'failed'), 0)
                   FROM deliveries x JOIN invitations i ON i.id = x.ref_id JOIN rooms r ON r.id = i.room_id WHERE r.dossier_id = d.id)
           FROM dossiers d WHERE d.id = ?""", [dossier_id]).fetchone()
    return None if row is None else "-".join(str(v or "") for v in row)


def list_for_activity(db: Database, actor: Actor, limit: int = 200, patient_id: str | None = None) -> tuple[list[DossierSummary], int]:
    """Running first, then scheduled by slot, awaiting report, drafts, closed; audited per resident.
    With `patient_id`, that resident's consultations only (their page, the wizard's same-doctor warning)."""
    only = "WHERE d.patient_id = :patient" if patient_id else ""
    total = db.execute(f"SELECT count(*) FROM dossiers d {only}", {"patient": patient_id}).fetchone()[0]
    rows = db.query(
        f"""
        SELECT d.*, coalesce(p.used_name, p.birth_name) AS name, json_extract(p.first_names, '$[0]') AS first_name,
               p.birth_date, p.sex, sp.directory_id AS specialist_directory_id, sp.rpps AS specialist_rpps
        FROM dossiers d JOIN patients p ON p.id = d.patient_id LEFT JOIN participants sp ON sp.id = d.specialist_id
        {only}
        ORDER BY CASE d.state WHEN 'in_progress' THEN 0 WHEN 'scheduled' THEN 1 WHEN 'awaiting_report' THEN 2
                              WHEN 'draft' THEN 3 ELSE 4 END,
                 CASE WHEN d.state = 'scheduled' THEN d.slot_start END, d.updated_at DESC
        LIMIT :limit
        """,
        {"patient": patient_id, "limit": limit},
    )
    items = [
        DossierSummary(
            id=r["id"], patient_id=r["patient_id"], patient_name=f"{r['name'].upper()} {r['first_name']}",
            patient_birth_date=r["birth_date"], patient_sex=r["sex"], state=DossierState(r["state"]), reason=r["reason"],
            specialist=r["specialist"], specialty=r["specialty"], slot_start=r["slot_start"],
            slot_minutes=r["slot_minutes"], updated_at=r["updated_at"],
            specialist_directory_id=r["specialist_directory_id"], specialist_rpps=r["specialist_rpps"],
        )
        for r in rows
    ]
    reached = _not_reached(db, [item.id for item in items])
    for item in items:
        item.not_reached.extend(reached.get(item.id, []))
    # Each resident shown is an access to that resident's data.
    where = "consultations du résident" if patient_id else "vue activité"
    audit.append_many(db, [actor.event("dossier.list", item.patient_id, detail=f"{where}, télédossier n° {item.id[:8]}")
                           for item in items])
    return items, total
