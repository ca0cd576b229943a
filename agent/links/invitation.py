"""Rooms, participants and their invitations: the links the cart sends out.

A room is where a teleconsultation happens: a dossier's, or a Visio SMS one without a dossier. It
is open within a window: shortly before the slot, until some time after it (seed 000 §2.2.4: 45
minutes). Each remote participant gets an invitation whose link carries a token signed by the
cart (HMAC-SHA256 with a key kept in the database): the token names the invitation, the link
names the room, and the cart checks the signature, the room, revocation and the window each
time the link is opened. Links are short because they travel by SMS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from agent import audit
from agent.access.keys import keys_of
from agent.audit import Actor
from agent.clock import clock_time, iso, long_date, parse_iso, utc_now_iso
from agent.notify import queue as deliveries
from agent.refusal import Refused
from agent.store import outbox
from agent.store.changes import InvitationChange, Operation, ParticipantChange

if TYPE_CHECKING:
    from agent.config import Config

_KEY_NAME = "invitation_key"


class ParticipantRole(StrEnum):
    SPECIALIST = "specialist"
    RELATIVE = "relative"
    PROFESSIONAL = "professional"
    GUEST = "guest"  # Visio SMS: a phone number or an address, nothing else


REVOKED_NOT_SENT = "Invitation révoquée : le message ne part pas"
REPLACED = "Remplacé par un nouvel envoi"

ROLE_LABELS = {
    ParticipantRole.SPECIALIST: "Médecin requis", ParticipantRole.RELATIVE: "Proche", ParticipantRole.PROFESSIONAL: "Professionnel de santé",
    ParticipantRole.GUEST: "Invité",
}


@dataclass(frozen=True)
class Window:
    opens_at: datetime
    closes_at: datetime

    def contains(self, moment: datetime) -> bool:
        return self.opens_at <= moment < self.closes_at


def window_for_slot(start: datetime, minutes: int, opens_before: int, stays_open: int) -> Window:
    return Window(start - timedelta(minutes=opens_before), start + timedelta(minutes=minutes + stays_open))


# --- tokens ------------------------------------------------------------------------------------

class Refusal(StrEnum):
    """Why a link does not open the room; each has its French page (agent/api/routes/join.py)."""

    MALFORMED = "malformed"
    FORGED = "forged"
    OTHER_ROOM = "other_room"
    REVOKED = "revoked"
    NOT_YET = "not_yet"
    CLOSED = "closed"


class LinkRefused(Exception):
    def __init__(self, reason: Refusal, admission: Admission | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.admission = admission  # what the link is for, when it is genuine (the page says when)


def signing_key(db: Database) -> bytes:
    """The cart's own key; made on first use. Losing it only invalidates links already sent."""
    rows = list(db.query("SELECT value FROM meta WHERE key = ?", [_KEY_NAME]))
    if rows:
        return bytes.fromhex(keys_of(db).unseal(rows[0]["value"]))
    key = secrets.token_bytes(32)
    db["meta"].insert({"key": _KEY_NAME, "value": keys_of(db).seal(key.hex())})  # whoever reads it forges any link
    return key


def _mac(key: bytes, room_id: str, invitation_id: str) -> str:
    digest = hmac.new(key, f"{room_id}/{invitation_id}".encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_for(key: bytes, room_id: str, invitation_id: str) -> str:
    return f"{invitation_id}.{_mac(key, room_id, invitation_id)}"


def link_path(room_id: str, token: str) -> str:
    return f"/s/{room_id}/{token}"


def link_url(public_url: str, key: bytes, room_id: str, invitation_id: str) -> str:
    """The link a participant receives (and the kiosk may read out on the phone)."""
    return public_url.rstrip("/") + link_path(room_id, token_for(key, room_id, invitation_id))


# --- rooms, participants, invitations ----------------------------------------------------------

def create_room(db: Database, window: Window, actor: Actor, dossier_id: str | None = None) -> str:
    room_id = secrets.token_urlsafe(9)
    db["rooms"].insert({
        "id": room_id, "dossier_id": dossier_id, "opens_at": iso(window.opens_at), "closes_at": iso(window.closes_at),
        "created_by": actor.login, "created_at": utc_now_iso(),
    })
    return room_id


class NoRoom(Refused):
    """The dossier or the Visio SMS has no room to enter (codes in agent/api/errors.py)."""


def _window_of(row: Any) -> Window:
    return Window(parse_iso(row["opens_at"]), parse_iso(row["closes_at"]))


def room_of_dossier(db: Database, dossier_id: str) -> tuple[str, Window]:
    rows = list(db.query("SELECT id, opens_at, closes_at FROM rooms WHERE dossier_id = ?", [dossier_id]))
    if not rows:
        exists = db.execute("SELECT 1 FROM dossiers WHERE id = ?", [dossier_id]).fetchone()
        raise NoRoom("not_found" if not exists else "no_room")
    return rows[0]["id"], _window_of(rows[0])


def visio_room(db: Database, room_id: str) -> tuple[str, Window]:
    """A Visio SMS room: a room without a dossier."""
    rows = list(db.query("SELECT opens_at, closes_at FROM rooms WHERE id = ? AND dossier_id IS NULL", [room_id]))
    if not rows:
        raise NoRoom("not_found")
    return room_id, _window_of(rows[0])


def add_participant(db: Database, room_id: str, role: ParticipantRole, person: dict[str, Any], *, remote: bool = True) -> int:
    row = {
        "room_id": room_id, "role": role.value, "remote": int(remote), "created_at": utc_now_iso(),
        **{k: person.get(k) for k in ("name", "first_name", "specialty", "rpps", "email", "mobile", "directory_id")},
    }
    participant_id = int(db["participants"].insert(row).last_pk)
    outbox.record(db, str(participant_id), Operation.CREATE, ParticipantChange(
        room_id=room_id, dossier_id=_dossier_of(db, room_id), remote=remote,
        **{k: row[k] for k in ("role", "name", "first_name", "specialty", "rpps")}))
    return participant_id


def _dossier_of(db: Database, room_id: str) -> str | None:
    return db["rooms"].get(room_id)["dossier_id"]


def change_of(db: Database, invitation_id: str) -> InvitationChange:
    """The invitation as the regional server learns it (created, sent again, revoked)."""
    row = db["invitations"].get(invitation_id)
    return InvitationChange(participant_id=row["participant_id"], room_id=row["room_id"], dossier_id=_dossier_of(db, row["room_id"]),
                            at=utc_now_iso())


def invite(db: Database, participant_id: int, actor: Actor) -> str:
    """A new invitation (a new link) for a participant; returns its id."""
    room_id = db["participants"].get(participant_id)["room_id"]
    invitation_id = secrets.token_urlsafe(12)
    db["invitations"].insert({
        "id": invitation_id, "participant_id": participant_id, "room_id": room_id, "created_at": utc_now_iso(),
        "created_by": actor.login,
    })
    outbox.record(db, invitation_id, Operation.CREATE, change_of(db, invitation_id))
    return invitation_id


def revoke(db: Database, invitation_id: str, actor: Actor) -> bool:
    row = db["invitations"].get(invitation_id)
    if row["revoked_at"]:
        return False
    db["invitations"].update(invitation_id, {"revoked_at": utc_now_iso(), "revoked_by": actor.login})
    deliveries.cancel_pending(db, invitation_id, REVOKED_NOT_SENT)  # a revoked link must not leave after all
    outbox.record(db, invitation_id, Operation.REVOKE, change_of(db, invitation_id))
    return True


@dataclass(frozen=True)
class Admission:
    """What a genuine link is for."""

    invitation_id: str
    room_id: str
    dossier_id: str | None
    participant_id: int
    role: ParticipantRole
    name: str | None
    first_name: str | None
    window: Window


def admit(db: Database, room_id: str, token: str, now: datetime) -> Admission:
    """The invitation a link stands for, if it opens the room now; LinkRefused says why not.
    Checks run from the cheapest and least revealing: a forged token learns nothing about rooms."""
    invitation_id, _, mac = token.partition(".")
    if not invitation_id or not mac or len(token) > 100:
        raise LinkRefused(Refusal.MALFORMED)
    rows = list(db.query(
        """SELECT i.id, i.room_id, i.revoked_at, p.id AS participant_id, p.role, p.name, p.first_name,
                  r.dossier_id, r.opens_at, r.closes_at
           FROM invitations i JOIN participants p ON p.id = i.participant_id JOIN rooms r ON r.id = i.room_id
           WHERE i.id = ?""",
        [invitation_id],
    ))
    key = signing_key(db)
    if not rows or not hmac.compare_digest(mac, _mac(key, rows[0]["room_id"], invitation_id)):
        raise LinkRefused(Refusal.FORGED)
    row = rows[0]
    admission = Admission(
        invitation_id, row["room_id"], row["dossier_id"], row["participant_id"], ParticipantRole(row["role"]), row["name"],
        row["first_name"], Window(parse_iso(row["opens_at"]), parse_iso(row["closes_at"])),
    )
    if row["room_id"] != room_id:
        raise LinkRefused(Refusal.OTHER_ROOM)  # no details: the address is not the one the cart sent
    if row["revoked_at"]:
        raise LinkRefused(Refusal.REVOKED, admission)
    if now < admission.window.opens_at:
        raise LinkRefused(Refusal.NOT_YET, admission)
    if now >= admission.window.closes_at:
        raise LinkRefused(Refusal.CLOSED, admission)
    return admission


def display_name(admission: Admission) -> str:
    """How the room shows a participant: "Dr Claire PETIT", "Marc DURAND", or their role."""
    return shown_name(admission.role, admission.name, admission.first_name)


def shown_name(role: ParticipantRole, name: str | None, first_name: str | None) -> str:
    if not name:
        return ROLE_LABELS[role]
    full = f"{first_name or ''} {name.upper()}".strip()
    return f"Dr {full}" if role is ParticipantRole.SPECIALIST else full


def open_link(db: Database, room_id: str, token: str, now: datetime, remote_addr: str | None, *, opened: str,
              refused: str, early_is_denied: bool) -> Admission | LinkRefused:
    """`admit()`, with the attempt audited under the patient of the room's dossier when the link
    was really issued, whatever its outcome. A made-up link (malformed, or a signature the cart
    never made) is refused without a record, so that forged links cannot fill the disk; the
    caller counts it in /metrics. A link used before its window is a denial where it tried to
    enter the room (`early_is_denied`), not where it only asked when the room opens."""
    try:
        admission = admit(db, room_id, token, now)
    except LinkRefused as refusal:
        if refusal.admission is None:
            return refusal
        early = refusal.reason is Refusal.NOT_YET and not early_is_denied
        audit_opening(db, refusal.admission, _patient_of(db, refusal.admission), audit.SUCCESS if early else audit.DENIED,
                      f"{refused} : {refusal.reason.value}", remote_addr)
        return refusal
    audit_opening(db, admission, _patient_of(db, admission), audit.SUCCESS, opened, remote_addr)
    return admission


def _patient_of(db: Database, admission: Admission | None) -> str | None:
    if admission is None or not admission.dossier_id:
        return None
    return db["dossiers"].get(admission.dossier_id)["patient_id"]


def audit_opening(db: Database, admission: Admission | None, patient_id: str | None, outcome: str, detail: str,
                  remote_addr: str | None) -> None:
    who = f"invité:{admission.invitation_id[:6]}" if admission else "lien inconnu"
    if admission and admission.name:
        who = f"{admission.name.upper()} {admission.first_name or ''}".strip() + f" ({ROLE_LABELS[admission.role]})"
    audit.append(db, audit.AuditEvent(actor=who, action="invitation.open", outcome=outcome, role=admission.role.value if admission else None,
                                      patient_id=patient_id, remote_addr=remote_addr, detail=detail))


# --- French texts ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """What creation needs from the configuration."""

    establishment: str
    zone: ZoneInfo
    public_url: str
    opens_before_minutes: int
    stays_open_minutes: int


def settings_from(config: Config) -> Settings:
    d = config.dossiers
    return Settings(
        establishment=d.establishment, zone=ZoneInfo(d.timezone), public_url=config.server.public_url,
        opens_before_minutes=d.room_opens_before_minutes, stays_open_minutes=d.room_stays_open_minutes,
    )


@dataclass(frozen=True)
class Message:
    subject: str
    email: str
    sms: str


def expertise_message(*, establishment: str, greeting: str, link: str, deadline: datetime, zone: ZoneInfo, reminder: bool = False) -> Message:
    """A téléexpertise asked of the expert: an opinion in writing by `deadline`, no call. No patient
    name either: the link (and its one-time code) opens the dossier."""
    by = f"{long_date(deadline, zone)} à {clock_time(deadline, zone)}"
    again = "Rappel : " if reminder else ""
    subject = f"{again}Demande de téléexpertise {establishment} — avis attendu avant le {by}"
    email = (
        f"{greeting},\n\n"
        + ("Nous n'avons pas encore reçu votre avis : l'échéance approche.\n\n" if reminder else "")
        + f"{establishment} vous demande votre avis d'expert par écrit (téléexpertise, sans appel), avant le {by}.\n\n"
        f"Ce lien ouvre le télédossier (motif, question posée, photos, documents, constantes) ; un code à usage unique vous est "
        f"envoyé pour l'ouvrir, puis vous écrivez et signez votre avis en ligne :\n\n{link}\n\n"
        f"Rien à installer. Ce lien vous est personnel : ne le transférez pas.\n\n"
        f"— {establishment}, envoyé par le chariot de téléconsultation Telecart\n"
    )
    sms = (f"{again}{establishment} : demande de téléexpertise, avis attendu avant le {deadline.astimezone(zone):%d/%m} à "
           f"{clock_time(deadline, zone).replace(' ', '')}. Lien personnel : {link}")
    return Message(subject, email, sms)


def invitation_message(*, establishment: str, greeting: str, link: str, slot_start: datetime | None,
                       slot_minutes: int | None, window: Window, zone: ZoneInfo) -> Message:
    """What a participant receives: when, how to join, and that the link is personal. No patient
    name: an email or SMS is not a safe place for health data; the link opens the details."""
    opens = f"{long_date(window.opens_at, zone)} à {clock_time(window.opens_at, zone)}"
    closes = clock_time(window.closes_at, zone)
    if slot_start is not None and slot_minutes is not None:
        when = (f"le {long_date(slot_start, zone)} de {clock_time(slot_start, zone)} à "
                f"{clock_time(slot_start + timedelta(minutes=slot_minutes), zone)} (heure de Paris)")
        sms_when = f"le {slot_start.astimezone(zone):%d/%m} à {clock_time(slot_start, zone).replace(' ', '')}"
    else:
        when = "dès maintenant"
        sms_when = "maintenant"
    subject = f"Téléconsultation {establishment} — {when}"
    email = (
        f"{greeting},\n\n"
        f"{establishment} vous invite à une téléconsultation {when}.\n\n"
        f"La salle ouvre le {opens} et reste ouverte jusqu'à {closes}.\n"
        f"Pour la rejoindre, ouvrez ce lien depuis un ordinateur, une tablette ou un smartphone récent "
        f"(Chrome, Edge, Firefox ou Safari) équipé d'une caméra et d'un micro :\n\n{link}\n\n"
        f"Rien à installer. Ce lien vous est personnel : ne le transférez pas.\n\n"
        f"— {establishment}, envoyé par le chariot de téléconsultation Telecart\n"
    )
    sms = f"{establishment} : téléconsultation {sms_when}. Lien personnel, actif jusqu'à {closes.replace(' ', '')} : {link}"
    return Message(subject, email, sms)


# --- sending ---------------------------------------------------------------------------------

def person_name(person: dict[str, Any]) -> str:
    return f"{(person.get('name') or '').upper()} {person.get('first_name') or ''}".strip()


def send_invitation(db: Database, invitation_id: str, actor: Actor, settings: Settings, patient_id: str | None,
                    reminder: bool = False) -> None:
    """Queue the email and/or SMS of an invitation (a first sending, a resend, a téléexpertise's reminder)."""
    inv = db["invitations"].get(invitation_id)
    person = db["participants"].get(inv["participant_id"])
    room = db["rooms"].get(inv["room_id"])
    d = db["dossiers"].get(room["dossier_id"]) if room["dossier_id"] else None
    role = ParticipantRole(person["role"])
    name = person_name(person)
    greeting = _greeting(role, person)
    link = link_url(settings.public_url, signing_key(db), room["id"], invitation_id)
    if d is not None and d["deadline"]:
        message = expertise_message(establishment=settings.establishment, greeting=greeting, link=link, deadline=parse_iso(d["deadline"]),
                                    zone=settings.zone, reminder=reminder)
    else:
        message = invitation_message(
            establishment=settings.establishment, greeting=greeting, link=link,
            slot_start=parse_iso(d["slot_start"]) if d and d["slot_start"] else None, slot_minutes=d["slot_minutes"] if d else None,
            window=Window(parse_iso(room["opens_at"]), parse_iso(room["closes_at"])), zone=settings.zone,
        )
    channels = []
    if person["email"]:
        deliveries.enqueue(db, "email", person["email"], message.subject, message.email, "invitation", invitation_id)
        channels.append("e-mail")
    if person["mobile"]:
        deliveries.enqueue(db, "sms", person["mobile"], None, message.sms, "invitation", invitation_id)
        channels.append("SMS")
    db["invitations"].update(invitation_id, {"sends": inv["sends"] + 1, "last_sent_at": utc_now_iso()})
    audit.append(db, actor.event("invitation.send", patient_id,
                                 detail=f"{ROLE_LABELS[role]} {name} par {' et '.join(channels)}"))


def _greeting(role: ParticipantRole, person: dict[str, Any]) -> str:
    """"Bonjour Docteur Roux", "Bonjour Paul Lefebvre": names as people write them, not as files do."""
    family = (person.get("name") or "").title()
    if role is ParticipantRole.SPECIALIST and family:
        return f"Bonjour Docteur {family}"
    full = f"{person.get('first_name') or ''} {family}".strip()
    return f"Bonjour {full}" if full else "Bonjour"
