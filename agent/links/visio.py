"""Visio SMS (seed 000 §2.6, "Invitation téléphonique"): an immediate teleconsultation from a
phone number or an email address alone, without a dossier. The room opens now and stays open
for the usual duration plus the grace time; the invitee gets a link like any other."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from agent import audit
from agent.audit import Actor
from agent.clock import iso
from agent.dossiers.dossier import DEFAULT_MINUTES_NOW
from agent.links import invitation
from agent.links.invitation import ParticipantRole, Settings, Window


def start(db: Database, contact: dict[str, Any], actor: Actor, settings: Settings, now: datetime) -> dict[str, Any]:
    window = Window(now, now + timedelta(minutes=DEFAULT_MINUTES_NOW + settings.stays_open_minutes))
    room_id = invitation.create_room(db, window, actor)
    participant_id = invitation.add_participant(db, room_id, ParticipantRole.GUEST, contact)
    invitation_id = invitation.invite(db, participant_id, actor)
    audit.append(db, actor.event("visio.start", None, detail=f"salle {room_id}, invitation par {'SMS' if contact.get('mobile') else 'e-mail'}"))
    invitation.send_invitation(db, invitation_id, actor, settings, None)
    return {"room": {"id": room_id, "opens_at": iso(window.opens_at), "closes_at": iso(window.closes_at)},
            "invitation_id": invitation_id}
