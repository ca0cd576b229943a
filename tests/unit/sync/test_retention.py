"""Dossiers not kept for ever: a closed dossier leaves the cart, files and all, only once the
regional server confirmed every part of it and the retention delay has passed since; a change
still waiting, in conflict or refused keeps it; the resident stays, and the audit trail says so."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from agent.audit import Actor
from agent.dossiers import documents, dossier, fiche, retention
from agent.dossiers.dossier import DossierState, NewDossier
from agent.dossiers.intake.content import Inspected
from agent.identity import patients
from agent.links.invitation import Settings

SPECIALIST = {"name": "PETIT", "first_name": "Claire", "specialty": "Dermatologie", "email": "claire.petit@chu.example",
              "mobile": "+33612345601"}
NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
DOSSIERS, FICHES = "urn:telecart:cart:c/dossier", "urn:telecart:cart:c/fiche"
APPOINTMENTS, PATIENTS = "urn:telecart:cart:c/appointment", "urn:telecart:cart:c/patient"
PDF = Inspected(kind="pdf", mime="application/pdf", pages=1)  # type: ignore[arg-type]


def signed_dossier(db: Database, run: Callable[..., Any], nurse: Actor, settings: Settings) -> dossier.Dossier:
    resident = run(db, patients.create, patients.NewIdentity("DUPONT", ["Marcel"], date(1931, 11, 2), "M"), nurse)
    made = run(db, dossier.create, NewDossier(patient_id=resident.id, consent_given=True, consent_comment=None, accompaniment="alone",
                                              companion=None, specialist=SPECIALIST, slot_start=None), nurse, settings, NOW)
    run(db, fiche.add_vital, made.id, "temperature", "37.9", "2030-03-04T09:05:00Z", nurse)
    run(db, documents.insert, made.id, "ab" * 32, PDF, 1200, "ordonnance.pdf", "ordonnance", nurse.login)
    run(db, dossier.transition, made.id, DossierState.IN_PROGRESS, nurse)
    doctor = Actor("dr.petit", "doctor")
    run(db, fiche.update, made.id, {"expert_opinion": "Surveillance"}, doctor)
    run(db, fiche.sign, made.id, doctor, "Dr Claire PETIT")
    return made


def confirm_all(db: Database, at: str) -> None:
    db.execute("UPDATE outbox SET state = CASE WHEN entity IN ('invitation', 'patient_share') THEN 'local' ELSE 'sent' END, sent_at = ?", [at])
    db.execute("UPDATE dossiers SET updated_at = ?, signed_at = ?", [at, at])
    db.conn.commit()


def test_a_dossier_goes_only_when_confirmed_and_its_time_is_up_and_the_resident_stays(
        db: Database, run: Callable[..., Any], nurse: Actor, settings: Settings) -> None:
    made = signed_dossier(db, run, nurse, settings)
    assert db["dossiers"].get(made.id)["state"] == DossierState.CLOSED.value
    cutoff = (NOW - timedelta(days=30)).isoformat()
    assert retention.purgeable(db, cutoff) == []  # nothing confirmed yet: the outbox is pending

    confirm_all(db, (NOW - timedelta(days=29)).isoformat())
    assert retention.purgeable(db, cutoff) == []  # confirmed, but 29 days ago only

    confirm_all(db, (NOW - timedelta(days=31)).isoformat())
    db.execute("UPDATE outbox SET state = 'conflict' WHERE entity = 'fiche'")
    db.conn.commit()
    assert retention.purgeable(db, cutoff) == []  # one part set aside for a person: kept

    db.execute("UPDATE outbox SET state = 'sent' WHERE entity = 'fiche'")
    db.conn.commit()
    assert retention.purgeable(db, cutoff) == [made.id]
    kept = [f"Encounter|{DOSSIERS}|{made.id}", f"Appointment|{APPOINTMENTS}|{made.id}", f"Composition|{FICHES}|{made.id}",
            f"Patient|{PATIENTS}|{made.patient['id']}"]
    for key in kept:
        db["sync_versions"].insert({"resource": key, "location": "X/1", "etag": 'W/"1"', "at": "2030-03-01T00:00:00Z"})
    document_entry = db.execute("SELECT id FROM outbox WHERE entity != 'patient' ORDER BY id DESC").fetchone()[0]  # as if it were a large document's
    db["sync_uploads"].insert({"entry_id": document_entry, "url": "https://telesante.example/files/abc", "created_at": "2030-03-01T00:00:00Z"})
    db.conn.commit()
    purged = run(db, retention.purge, made.id, 30)

    assert purged.blobs == ["ab" * 32]
    for table in ("dossiers", "consents", "vitals", "documents", "rooms", "participants", "invitations", "deliveries", "sync_uploads"):
        assert db[table].count == 0, table
    assert db.execute("SELECT count(*) FROM outbox WHERE entity != 'patient'").fetchone()[0] == 0
    assert db["patients"].count == 1
    assert [r[0] for r in db.execute("SELECT resource FROM sync_versions")] == kept[3:]  # the resident's version stays with them
    last = next(db.query("SELECT * FROM audit ORDER BY seq DESC LIMIT 1"))
    assert (last["action"], last["actor"]) == ("dossier.purge", "telecart")
    assert "30 jour(s)" in last["detail"]
