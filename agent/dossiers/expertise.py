"""Téléexpertise's own upkeep (issue 15): the expert is reminded once before the deadline, by the
same link (agent/links/invitation.py `expertise_message`, marked "Rappel"), when a quarter of a day
is left for a short delay or a day for a longer one; never after an answer, a cancellation or the
deadline. Run by the agent's housekeeping (agent/app.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from agent import audit
from agent.audit import Actor
from agent.clock import iso, parse_iso
from agent.dossiers.dossier import HOLDS_THE_CART, TELEEXPERTISE
from agent.links import invitation
from agent.links.invitation import Settings
from agent.notify import queue as deliveries

REMINDER = Actor("telecart", "system")


def reminder_time(created_at: datetime, deadline: datetime) -> datetime:
    """A day before the deadline, or half-way for a delay of two days or less."""
    return deadline - min(timedelta(hours=24), (deadline - created_at) / 2)


def remind_due(db: Database, now: datetime, settings: Settings) -> int:
    """The experts whose reminder time has come, reminded once; how many."""
    rows = db.execute(
        f"""SELECT d.id, d.patient_id, d.created_at, d.deadline, i.id FROM dossiers d
            JOIN invitations i ON i.participant_id = d.specialist_id AND i.revoked_at IS NULL
            WHERE d.kind = ? AND d.state IN ({", ".join("?" * len(HOLDS_THE_CART))}) AND d.signed_at IS NULL
              AND d.reminded_at IS NULL AND d.deadline > ?""",
        [TELEEXPERTISE, *HOLDS_THE_CART, iso(now)]).fetchall()
    reminded = 0
    for dossier_id, patient_id, created_at, deadline, invitation_id in rows:
        if now < reminder_time(parse_iso(created_at), parse_iso(deadline)):
            continue
        deliveries.cancel_pending(db, invitation_id, invitation.REPLACED)  # one message in the queue, not two
        invitation.send_invitation(db, invitation_id, REMINDER, settings, patient_id, reminder=True)
        db["dossiers"].update(dossier_id, {"reminded_at": iso(now)})
        audit.append(db, REMINDER.event("expertise.reminder", patient_id, detail=f"télédossier n° {dossier_id[:8]}, avis attendu avant le {deadline}"))
        reminded += 1
    return reminded
