"""The specialist's side of the invitation link (seed 001 §2 and §4): the link alone opens no
health data. Its holder asks for a one-time code, sent to the specialist's own mobile (or email);
the code opens a session limited to that dossier, from the room's opening until
`[dossiers] report_window_hours` after it closes, to read the fiche and documents and to write
and sign the expert's part. Every read is audited under the specialist's name.

Pro Santé Connect is the stronger way in (`open_session_by_psc`): it opens the same session, once
the national provider proved the doctor's RPPS.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from agent import audit
from agent.access import link_codes
from agent.access.sessions import touch_interval
from agent.audit import Actor
from agent.clock import parse_iso
from agent.dossiers.directory import doctor_name
from agent.links import invitation
from agent.links.invitation import Admission, LinkRefused, ParticipantRole, Refusal, Window
from agent.notify import masked
from agent.notify import queue as deliveries
from agent.refusal import Refused


class AccessRefused(Refused):
    """The link or the code does not open the dossier."""


@dataclass(frozen=True)
class Guest:
    """A specialist inside their dossier."""

    session_id: str
    invitation_id: str
    room_id: str
    dossier_id: str
    patient_id: str
    name: str
    csrf_token: str
    expires_at: float

    def actor(self, remote_addr: str | None) -> Actor:
        return Actor(self.name, ParticipantRole.SPECIALIST.value, remote_addr)

    def opened_from(self, room_id: str, token: str) -> bool:
        """Whether this session belongs to the link (room, token) a page was opened from. One
        browser may hold several doctors' or dossiers' sessions: a page must never be answered
        with another link's dossier."""
        return room_id == self.room_id and token.partition(".")[0] == self.invitation_id


def access_window(admission: Admission, report_hours: int) -> Window:
    return Window(admission.window.opens_at, admission.window.closes_at + timedelta(hours=report_hours))


def admitted(db: Database, room_id: str, token: str, now: datetime, report_hours: int) -> None:
    """Raises when the link is not a specialist's whose dossier is open to them now."""
    _admit_specialist(db, room_id, token, now, report_hours)


def _admit_specialist(db: Database, room_id: str, token: str, now: datetime, report_hours: int) -> Admission:
    """The link's invitation if it is a specialist's and its dossier is open to them now."""
    try:
        admission = invitation.admit(db, room_id, token, now)
    except LinkRefused as refused:
        # After the room closes the specialist still has the report window.
        late = refused.reason is Refusal.CLOSED and refused.admission is not None
        if not (late and access_window(refused.admission, report_hours).contains(now)):
            raise
        admission = refused.admission
    if admission.role is not ParticipantRole.SPECIALIST or admission.dossier_id is None:
        raise AccessRefused("not_a_specialist_link")
    return admission


def full_name(row: dict) -> str:
    return doctor_name(row["name"] or "", row["first_name"])


def send_code(db: Database, room_id: str, token: str, now: datetime, report_hours: int, establishment: str,
              wanted: str | None = None) -> dict[str, str | None]:
    """Queue a one-time code to the specialist, by SMS unless `wanted` is "email" (or there is no
    mobile); returns where it went, masked ("+33 6 •• •• •• 12"), by which channel, and the other
    channel they could ask for."""
    admission = _admit_specialist(db, room_id, token, now, report_hours)
    person = db["participants"].get(admission.participant_id)
    previous = db.execute("SELECT sent_at FROM link_codes WHERE invitation_id = ?", [admission.invitation_id]).fetchone()
    reachable = [c for c, address in (("sms", person["mobile"]), ("email", person["email"])) if address]
    channel = wanted if wanted in reachable else reachable[0]
    # The 30 s between two codes stops a flood of messages; a code that has not left by one way
    # may be asked at once by the other (the stuck message is cancelled: its code is replaced).
    last = _last_code(db, admission.invitation_id)
    switching = last is not None and last["state"] != "sent" and last["channel"] != channel
    if switching:
        deliveries.cancel_pending(db, admission.invitation_id, "Remplacé par un code envoyé autrement", purpose="otp")
    issued = link_codes.issue(admission.invitation_id, now.timestamp(), None if switching or not previous else previous[0])
    recipient = person["mobile"] if channel == "sms" else person["email"]
    db["link_codes"].upsert({"invitation_id": admission.invitation_id, "code_hash": issued.digest,
                             "channel": channel, "sent_at": issued.sent_at, "expires_at": issued.expires_at, "attempts": 0},
                            pk="invitation_id")
    text = f"{establishment} : votre code d'accès au télédossier est {issued.code}. Il expire dans 10 minutes. Ne le communiquez à personne."
    deliveries.enqueue(db, channel, recipient, "Code d'accès au télédossier" if channel == "email" else None, text, "otp", admission.invitation_id)
    patient_id = db["dossiers"].get(admission.dossier_id)["patient_id"]
    audit.append(db, Actor(full_name(person), ParticipantRole.SPECIALIST.value).event("link.code", patient_id, detail=f"code envoyé par {channel}"))
    other = next((c for c in reachable if c != channel), None)
    return {"sent_to": masked(recipient), "channel": channel, "other_channel": other}


def code_delivery(db: Database, room_id: str, token: str, now: datetime, report_hours: int) -> dict[str, str | None] | None:
    """What became of the last code sent for this link: pending, sent or failed (the page says
    « en cours d'envoi » until the message really left)."""
    admission = _admit_specialist(db, room_id, token, now, report_hours)
    last = _last_code(db, admission.invitation_id)
    if last is None:
        return None
    return {"channel": last["channel"], "sent_to": masked(last["recipient"]), "state": last["state"], "last_error": last["last_error"]}


def _last_code(db: Database, invitation_id: str) -> dict[str, Any] | None:
    """The message that carried the link's last code (channel, recipient, state, last_error)."""
    rows = list(db.query("SELECT channel, recipient, state, last_error FROM deliveries WHERE ref_id = ? AND purpose = 'otp' "
                         "ORDER BY id DESC LIMIT 1", [invitation_id]))
    return rows[0] if rows else None


def open_session(db: Database, room_id: str, token: str, code: str, now: datetime, report_hours: int,
                 remote_addr: str | None) -> tuple[str, Guest]:
    """Check the code (once, a few tries); returns the session's cookie token and the guest."""
    admission = _admit_specialist(db, room_id, token, now, report_hours)
    person = db["participants"].get(admission.participant_id)
    actor = Actor(full_name(person), ParticipantRole.SPECIALIST.value, remote_addr)
    patient_id = db["dossiers"].get(admission.dossier_id)["patient_id"]
    row = db.execute("SELECT code_hash, expires_at, attempts FROM link_codes WHERE invitation_id = ?", [admission.invitation_id]).fetchone()
    stamp = now.timestamp()
    digest, expires_at, attempts = row if row else (None, None, 0)
    if not link_codes.matches(admission.invitation_id, code, digest, expires_at, attempts, stamp):
        db.execute("UPDATE link_codes SET attempts = attempts + 1 WHERE invitation_id = ?", [admission.invitation_id])
        audit.append(db, actor.event("link.login", patient_id, outcome=audit.FAILURE, detail="code erroné"))
        raise link_codes.wrong(attempts)
    db.execute("DELETE FROM link_codes WHERE invitation_id = ?", [admission.invitation_id])  # a code works once
    return _new_session(db, admission, actor, patient_id, stamp, report_hours, remote_addr, f"télédossier n° {admission.dossier_id[:8]}")


def open_session_by_psc(db: Database, room_id: str, token: str, rpps: str | None, now: datetime, report_hours: int,
                        remote_addr: str | None) -> tuple[str, Guest]:
    """Pro Santé Connect proved who opens the link: the same session as a code opens, if they are
    the invited doctor (their RPPS, when the invitation has one); the cart then knows the doctor's
    RPPS for sure."""
    admission = _admit_specialist(db, room_id, token, now, report_hours)
    person = db["participants"].get(admission.participant_id)
    actor = Actor(full_name(person), ParticipantRole.SPECIALIST.value, remote_addr)
    patient_id = db["dossiers"].get(admission.dossier_id)["patient_id"]
    if not rpps or (person["rpps"] and person["rpps"] != rpps):
        audit.append(db, actor.event("link.login", patient_id, outcome=audit.DENIED,
                                     detail=f"Pro Santé Connect : RPPS {rpps or 'absent'}, pas celui du médecin invité"))
        raise AccessRefused("psc_other_doctor")
    db["participants"].update(admission.participant_id, {"rpps": rpps})
    return _new_session(db, admission, actor, patient_id, now.timestamp(), report_hours, remote_addr,
                        f"télédossier n° {admission.dossier_id[:8]}, Pro Santé Connect, RPPS {rpps} vérifié")


def _new_session(db: Database, admission: Admission, actor: Actor, patient_id: str, stamp: float, report_hours: int,
                 remote_addr: str | None, detail: str) -> tuple[str, Guest]:
    session_token = secrets.token_urlsafe(32)
    expires = access_window(admission, report_hours).closes_at.timestamp()
    guest = Guest(link_codes.token_digest(session_token), admission.invitation_id, admission.room_id, admission.dossier_id, patient_id,
                  actor.login, secrets.token_urlsafe(32), expires)
    db["link_sessions"].insert({"id": guest.session_id, "invitation_id": guest.invitation_id, "csrf_token": guest.csrf_token,
                                "created_at": stamp, "last_active": stamp, "expires_at": expires, "remote_addr": remote_addr})
    audit.append(db, actor.event("link.login", patient_id, detail=detail))
    return session_token, guest


def peek(db: Database, session_token: str, now: datetime, report_hours: int, idle_seconds: float) -> Guest | None:
    """The guest of a live session as `find` says, without counting this as its use (nor ending an
    idle one): for the page's automatic questions, which must not keep a page left alone open."""
    found = _live(db, session_token, now, report_hours)
    if found is None:
        return None
    r, guest = found
    return None if _unused_for(r, now) > idle_seconds else guest


def find(db: Database, session_token: str, now: datetime, report_hours: int, idle_seconds: float) -> Guest | None:
    """The guest of a cookie, if the session is live (and used within the idle time), its invitation not revoked and its room's
    window (which the staff may have moved since) plus the report time not over."""
    found = _live(db, session_token, now, report_hours)
    if found is None:
        return None
    r, guest = found
    # Left alone longer than a staff session may be (a shared hospital workstation): ended, the
    # page asks a new code. Otherwise the session is used now (written at most every few seconds).
    unused = _unused_for(r, now)
    if unused > idle_seconds:
        db.execute("DELETE FROM link_sessions WHERE id = ?", [r["id"]])
        return None
    if unused > touch_interval(idle_seconds):
        db.execute("UPDATE link_sessions SET last_active = ? WHERE id = ?", [now.timestamp(), r["id"]])
    return guest


def _unused_for(r: dict[str, Any], now: datetime) -> float:
    """Seconds since the session was last used (or opened)."""
    return now.timestamp() - (r["last_active"] or r["created_at"])


def _live(db: Database, session_token: str, now: datetime, report_hours: int) -> tuple[dict[str, Any], Guest] | None:
    """The session's row and guest, if its invitation is not revoked and its room's window (which
    the staff may have moved since) plus the report time is not over; its idle time unchecked."""
    rows = list(db.query(
        """SELECT s.id, s.invitation_id, s.csrf_token, s.expires_at, s.created_at, s.last_active, r.id AS room_id, r.dossier_id, d.patient_id, p.name, p.first_name, i.revoked_at,
                  r.closes_at
           FROM link_sessions s JOIN invitations i ON i.id = s.invitation_id JOIN participants p ON p.id = i.participant_id
                JOIN rooms r ON r.id = i.room_id JOIN dossiers d ON d.id = r.dossier_id
           WHERE s.id = ?""", [link_codes.token_digest(session_token)]))
    if not rows:
        return None
    r = rows[0]
    ends = min(r["expires_at"], (parse_iso(r["closes_at"]) + timedelta(hours=report_hours)).timestamp())
    if r["revoked_at"] or now.timestamp() >= ends:
        return None
    return r, Guest(r["id"], r["invitation_id"], r["room_id"], r["dossier_id"], r["patient_id"], full_name(r), r["csrf_token"], r["expires_at"])
