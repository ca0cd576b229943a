"""The cart's agenda on a real database, without HTTP (agent/dossiers/agenda.py).

A day is the cart's day: its bounds are midnights in the cart's zone (Europe/Paris), so a
consultation at 23:30 Paris time (22:30 UTC in winter) belongs to that day and not the next, and
one at 00:10 (still the previous day in UTC) to the next. Consultations sharing a moment are
marked as overlapping each other, the others not; cancelled ones are not shown. Each invitee says
what became of the message and of the link: sent or failed, the link opened, the room entered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from agent import audit
from agent.audit import Actor
from agent.dossiers import agenda, dossier
from agent.dossiers.dossier import NewDossier
from agent.identity import patients
from agent.links import invitation
from agent.links.invitation import Settings

Run = Callable[..., Any]
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2030, 3, 4, 8, 0, tzinfo=UTC)  # a Monday, 9 h Paris (winter time: UTC+1)
PETIT = {"name": "PETIT", "first_name": "Claire", "specialty": "Cardiologie", "email": "claire.petit@chu.example"}
MOREAU = {"name": "MOREAU", "first_name": "Luc", "specialty": "Dermatologie", "mobile": "+33612345602"}


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2030, 3, day, hour, minute, tzinfo=PARIS)


def book(db: Database, run: Run, nurse: Actor, settings: Settings, patient_id: str, start: datetime, minutes: int = 30,
         specialist: dict[str, Any] = PETIT) -> str:
    new = NewDossier(patient_id=patient_id, consent_given=True, consent_comment=None, accompaniment="alone", companion=None,
                     specialist=specialist, slot_start=start.astimezone(UTC), slot_minutes=minutes, confirm_overlap=True)
    return run(db, dossier.create, new, nurse, settings, NOW).id


def day_of(db: Database, run: Run, nurse: Actor, first: date, days: int = 1) -> list[agenda.AgendaItem]:
    return run(db, agenda.consultations, agenda.Window(first, days, PARIS), nurse)


def test_a_day_is_the_carts_day_and_overlaps_are_marked(db: Database, run: Run, nurse: Actor, settings: Settings) -> None:
    marcel = run(db, patients.create, patients.NewIdentity("DUPONT", ["Marcel"], date(1931, 11, 2), "M"), nurse).id
    jeanne = run(db, patients.create, patients.NewIdentity("MARTIN", ["Jeanne"], date(1928, 5, 14), "F"), nurse).id
    morning = book(db, run, nurse, settings, marcel, paris(4, 14, 0), 45)
    clash = book(db, run, nurse, settings, jeanne, paris(4, 14, 30), 30, MOREAU)
    alone = book(db, run, nurse, settings, jeanne, paris(4, 16, 0))
    late = book(db, run, nurse, settings, marcel, paris(4, 23, 30))  # 22:30 UTC: Monday in Paris
    after_midnight = book(db, run, nurse, settings, jeanne, paris(5, 0, 10))  # 23:10 UTC on Monday: Tuesday in Paris
    cancelled = book(db, run, nurse, settings, marcel, paris(4, 10, 0))
    run(db, dossier.cancel, cancelled, "résident hospitalisé", nurse)
    assert paris(4, 23, 30).astimezone(UTC).day == 4 and paris(5, 0, 10).astimezone(UTC).day == 4

    monday = day_of(db, run, nurse, date(2030, 3, 4))
    assert [item.id for item in monday] == [morning, clash, alone, late]
    by_id = {item.id: item for item in monday}
    assert by_id[morning].overlaps == [clash] and by_id[clash].overlaps == [morning]
    assert by_id[alone].overlaps == [] and by_id[late].overlaps == []
    assert by_id[late].start.astimezone(PARIS).strftime("%d %H:%M") == "04 23:30"
    assert by_id[morning].resident == "DUPONT Marcel" and by_id[clash].specialist == "Dr Luc Moreau"
    # The room's window as configured: 15 min before the slot, 45 min after its end.
    assert by_id[morning].room_opens_at == paris(4, 13, 45) and by_id[morning].room_closes_at == paris(4, 15, 30)

    assert [item.id for item in day_of(db, run, nurse, date(2030, 3, 5))] == [after_midnight]
    assert [item.id for item in day_of(db, run, nurse, date(2030, 3, 3))] == []
    week = day_of(db, run, nurse, date(2030, 3, 4), 7)
    assert [item.id for item in week] == [morning, clash, alone, late, after_midnight]

    # Reading the agenda is an access to each resident shown, recorded under them.
    listed = db.execute("SELECT count(*) FROM audit WHERE action = 'dossier.list' AND detail LIKE 'agenda, %'").fetchone()[0]
    assert listed == 4 + 1 + 5


def test_a_clock_change_day_keeps_its_bounds(db: Database, run: Run, nurse: Actor, settings: Settings) -> None:
    """Sunday 31 March 2030 has 23 hours in Paris: 23:45 that evening is still Sunday (21:45 UTC)."""
    marcel = run(db, patients.create, patients.NewIdentity("DUPONT", ["Marcel"], date(1931, 11, 2), "M"), nurse).id
    sunday_night = book(db, run, nurse, settings, marcel, datetime(2030, 3, 31, 23, 45, tzinfo=PARIS))
    assert [i.id for i in day_of(db, run, nurse, date(2030, 3, 31))] == [sunday_night]
    assert day_of(db, run, nurse, date(2030, 4, 1)) == []


def test_invitees_say_what_became_of_their_invitation(db: Database, run: Run, nurse: Actor, settings: Settings) -> None:
    marcel = run(db, patients.create, patients.NewIdentity("DUPONT", ["Marcel"], date(1931, 11, 2), "M"), nurse).id
    reached = book(db, run, nurse, settings, marcel, paris(4, 14, 0))
    unreached = book(db, run, nurse, settings, marcel, paris(4, 16, 0), specialist=MOREAU)
    # The message to Dr Moreau failed for good; the one to Dr Petit left.
    ids = {d: db.execute("SELECT i.id, i.room_id FROM invitations i JOIN rooms r ON r.id = i.room_id WHERE r.dossier_id = ?",
                         [d]).fetchone() for d in (reached, unreached)}
    db.execute("UPDATE deliveries SET state = 'failed', last_error = 'numéro inconnu' WHERE ref_id = ?", [ids[unreached][0]])
    db.execute("UPDATE deliveries SET state = 'sent', sent_at = '2030-03-04T08:01:00Z' WHERE ref_id = ?", [ids[reached][0]])
    db.conn.commit()

    def item(dossier_id: str) -> agenda.AgendaItem:
        return next(i for i in day_of(db, run, nurse, date(2030, 3, 4)) if i.id == dossier_id)

    petit = item(reached).invitees[0]
    assert (petit.name, petit.role_label, petit.delivery) == ("Dr Claire PETIT", "Médecin requis", "sent")
    assert not (petit.opened_link or petit.entered_room)
    moreau = item(unreached).invitees[0]
    assert moreau.delivery == "failed" and moreau.channels == [{"channel": "sms", "state": "failed", "last_error": "numéro inconnu"}]

    # Dr Petit opens her link inside the room's window, then enters the room: the audit trail says so.
    room_id = ids[reached][1]
    token = invitation.token_for(invitation.signing_key(db), room_id, ids[reached][0])
    inside = paris(4, 13, 50)
    run(db, invitation.open_link, room_id, token, inside, "192.0.2.7", opened="lien ouvert, salle ouverte", refused="lien refusé",
        early_is_denied=False)
    petit = item(reached).invitees[0]
    assert petit.opened_link and not petit.entered_room
    run(db, invitation.open_link, room_id, token, inside, "192.0.2.7", opened="entrée dans la salle de téléconsultation",
        refused="salle refusée", early_is_denied=True)
    assert item(reached).invitees[0].entered_room
    assert not item(unreached).invitees[0].opened_link  # the same resident, another doctor: nothing of Dr Petit's counts for him
    assert db.execute("SELECT count(*) FROM audit WHERE action = 'invitation.open' AND outcome = ?", [audit.SUCCESS]).fetchone()[0] == 2
