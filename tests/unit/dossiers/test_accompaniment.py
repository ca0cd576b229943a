"""How the dossier records who accompanied the resident, as the dossier page and the report print
it: what the nurse chose in the wizard, not whoever was invited into the room afterwards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlite_utils import Database

from agent.audit import Actor
from agent.dossiers import dossier
from agent.identity import patients
from agent.links.invitation import ParticipantRole, Settings

Run = Callable[..., Any]
NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
SPECIALIST = {"name": "PETIT", "first_name": "Claire", "specialty": "Cardiologie", "email": "claire.petit@chu.example"}
DAUGHTER = {"name": "DUPONT", "first_name": "Anne", "email": "anne@famille.example"}


def created(db: Database, run: Run, actor: Actor, settings: Settings, kind: str, companion: dict | None) -> dossier.Dossier:
    resident = run(db, patients.create, patients.NewIdentity("DUPONT", ["Marcel"], date(1931, 11, 2), "M"), actor)
    new = dossier.NewDossier(resident.id, True, None, kind, companion, SPECIALIST, None)
    return run(db, dossier.create, new, actor, settings, NOW)


def test_a_present_companion_stays_the_companion_when_someone_else_is_invited(
        db: Database, run: Run, nurse: Actor, settings: Settings) -> None:
    made = created(db, run, nurse, settings, "professional", {"name": "KINE", "first_name": "Luc", "remote": False})
    run(db, dossier.invite_participant, made.id, ParticipantRole.RELATIVE, DAUGHTER, nurse, settings)
    shown = dossier.load(db, made.id, settings).accompaniment
    assert shown["kind"] == "professional" and shown["companion"]["name"] == "KINE" and shown["companion"]["remote"] is False
    assert len(dossier.load(db, made.id, settings).invitations) == 2


def test_a_resident_who_came_alone_stays_alone_when_a_relative_is_invited_later(
        db: Database, run: Run, nurse: Actor, settings: Settings) -> None:
    made = created(db, run, nurse, settings, "alone", None)
    assert made.accompaniment == {"kind": "alone", "companion": None}
    run(db, dossier.invite_participant, made.id, ParticipantRole.RELATIVE, DAUGHTER, nurse, settings)
    assert dossier.load(db, made.id, settings).accompaniment == {"kind": "alone", "companion": None}
