"""Téléexpertise on a real database, without HTTP (agent/dossiers/dossier.py, expertise.py): it holds
no time of the cart (no slot, no overlap), its expert's invitation says what is asked and by when,
the expert is reminded once when the reminder time comes and never after an answer, and its
signed answer is news for the kiosk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlite_utils import Database

from agent.audit import Actor
from agent.dossiers import dossier, expertise, fiche, news
from agent.dossiers.dossier import NewDossier
from agent.identity import patients
from agent.links.invitation import ParticipantRole, Settings
from agent.refusal import Refused

Run = Callable[..., Any]
NOW = datetime(2030, 3, 4, 8, 0, tzinfo=UTC)
EXPERT = {"name": "MARTIN", "first_name": "Lucie", "specialty": "Dermatologie", "mobile": "+33611223344"}


def ask(db: Database, run: Run, nurse: Actor, settings: Settings, hours: float = 48) -> str:
    resident = run(db, patients.create, patients.NewIdentity("DUPONT", ["Marcel"], date(1931, 11, 2), "M"), nurse).id
    new = NewDossier(patient_id=resident, consent_given=True, consent_comment=None, accompaniment="alone", companion=None,
                     specialist=EXPERT, slot_start=None, reason="Plaie du talon", kind=dossier.TELEEXPERTISE,
                     deadline=NOW + timedelta(hours=hours), question="Faut-il un avis vasculaire ?")
    return run(db, dossier.create, new, nurse, settings, NOW).id


def sms(db: Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT body FROM deliveries WHERE channel = 'sms' AND state = 'pending' ORDER BY id")]


def test_it_holds_no_slot_and_its_invitation_asks_for_an_opinion_by_the_deadline(db: Database, run: Run, nurse: Actor,
                                                                                  settings: Settings) -> None:
    made = run(db, dossier.load, ask(db, run, nurse, settings), settings)
    assert made.kind == dossier.TELEEXPERTISE and made.slot is None
    assert made.expertise == {"question": "Faut-il un avis vasculaire ?", "deadline": "2030-03-06T08:00:00Z"}
    assert run(db, dossier.overlapping, NOW, NOW + timedelta(days=3)) == []  # the cart stays free for calls
    from agent.access.keys import keys_of
    texts = [keys_of(db).unseal(t) for t in sms(db)]
    assert len(texts) == 1 and "demande de téléexpertise, avis attendu avant le 06/03 à 9h00" in texts[0] and "/s/" in texts[0]
    assert made.invitations[0]["role"] == ParticipantRole.SPECIALIST.value


def test_a_deadline_too_close_is_refused(db: Database, run: Run, nurse: Actor, settings: Settings) -> None:
    with pytest.raises(Refused):
        ask(db, run, nurse, settings, hours=0.25)


def test_the_expert_is_reminded_once_when_the_time_comes_and_not_after_answering(db: Database, run: Run, nurse: Actor,
                                                                                 settings: Settings) -> None:
    from agent.access.keys import keys_of

    dossier_id = ask(db, run, nurse, settings, hours=48)
    assert expertise.reminder_time(NOW, NOW + timedelta(hours=48)) == NOW + timedelta(hours=24)
    assert run(db, expertise.remind_due, NOW + timedelta(hours=23), settings) == 0
    assert run(db, expertise.remind_due, NOW + timedelta(hours=25), settings) == 1
    assert run(db, expertise.remind_due, NOW + timedelta(hours=30), settings) == 0  # once
    pending = [keys_of(db).unseal(t) for t in sms(db)]
    assert len(pending) == 1 and pending[0].startswith("Rappel : ")  # the first message, still waiting, gave way to the reminder

    other = ask(db, run, nurse, settings, hours=6)  # a short delay: reminded half-way
    expert = Actor("Dr Lucie Martin", ParticipantRole.SPECIALIST.value)
    run(db, fiche.update, other, {"expert_opinion": "Pas d'avis vasculaire nécessaire."}, expert)
    run(db, fiche.sign, other, expert, "Dr Lucie Martin")
    assert run(db, expertise.remind_due, NOW + timedelta(hours=4), settings) == 0  # answered: nothing to remind
    items = run(db, news.recent_from_outside, "2000-01-01T00:00:00Z")
    assert [(n["dossier_id"], n["kind_label"], n["added_by"]) for n in items] == [(other, "Réponse à la téléexpertise", "Dr Lucie Martin")]
    assert dossier_id != other
