"""One lookup of "a dossier's PDF and its resident" (agent/dossiers/documents.pdf_of) serves
printing, sending to the resident and MSSanté; each still says no in its own words. And the cart's
written time (agent/clock.local_stamp), as the papers print it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database

from agent.audit import Actor
from agent.clock import local_stamp
from agent.dossiers import documents, dossier
from agent.dossiers.dossier import DossierRefused, NewDossier
from agent.dossiers.intake import Inspected
from agent.identity import patients
from agent.links.invitation import Settings
from agent.printing import sources
from agent.refusal import Refused

Run = Callable[..., Any]
NOW = datetime(2030, 3, 4, 8, 0, tzinfo=UTC)


def a_dossier(db: Database, run: Run, nurse: Actor, settings: Settings) -> tuple[str, str]:
    resident = run(db, patients.create, patients.NewIdentity("DUPONT", ["Marcel"], date(1931, 11, 2), "M"), nurse).id
    new = NewDossier(patient_id=resident, consent_given=True, consent_comment=None, accompaniment="alone", companion=None,
                     specialist={"name": "MARTIN", "specialty": "Dermatologie", "mobile": "+33611223344"}, slot_start=None,
                     reason="Plaie", kind=dossier.TELEEXPERTISE, deadline=NOW + timedelta(hours=48), question="Avis ?")
    return run(db, dossier.create, new, nurse, settings, NOW).id, resident


def add(db: Database, run: Run, dossier_id: str, name: str, inspected: Inspected) -> str:
    return run(db, documents.insert, dossier_id, "b" * 64, inspected, 1234, name, "ordonnance", "nurse.martin")["id"]


def test_a_pdf_comes_with_its_resident(db: Database, run: Run, nurse: Actor, settings: Settings) -> None:
    dossier_id, resident = a_dossier(db, run, nurse, settings)
    pdf_id = add(db, run, dossier_id, "ordonnance.pdf", Inspected("pdf", "application/pdf", pages=1))
    pdf = run(db, documents.pdf_of, dossier_id, pdf_id, lambda name: Refused("never", name=name))
    assert (pdf.id, pdf.dossier_id, pdf.patient_id, pdf.name, pdf.kind, pdf.blob, pdf.size) == (
        pdf_id, dossier_id, resident, "ordonnance.pdf", "ordonnance", "b" * 64, 1234)
    printable = run(db, sources.document, dossier_id, pdf_id)
    assert (printable.patient_id, printable.what, printable.title, printable.blob) == (
        resident, "Ordonnance « ordonnance.pdf »", f"Telecart ordonnance {dossier_id[:8]}", "b" * 64)


def test_each_use_refuses_in_its_own_words(db: Database, run: Run, nurse: Actor, settings: Settings) -> None:
    dossier_id, _ = a_dossier(db, run, nurse, settings)
    photo_id = add(db, run, dossier_id, "plaie.jpg", Inspected("jpeg", "image/jpeg", width=10, height=10))
    with pytest.raises(Refused) as refused:
        run(db, sources.document, dossier_id, photo_id)
    assert (refused.value.code, refused.value.params) == ("not_printable", {"name": "plaie.jpg"})
    with pytest.raises(DossierRefused) as missing:
        run(db, sources.document, dossier_id, "no-such-document")
    assert missing.value.code == "not_found"
    other_id, _ = a_dossier(db, run, nurse, settings)
    with pytest.raises(DossierRefused):  # a document of another dossier is not this one's
        run(db, documents.pdf_of, other_id, photo_id, lambda name: Refused("never"))


def test_the_written_time_is_the_cart_s_own() -> None:
    paris = ZoneInfo("Europe/Paris")
    assert local_stamp(paris, datetime(2030, 3, 4, 8, 5, tzinfo=UTC)) == "04/03/2030 à 09:05"
    assert local_stamp(paris, datetime(2030, 7, 4, 22, 30, tzinfo=UTC), "%d/%m/%Y") == "05/07/2030"
    before = datetime.now(UTC).astimezone(paris).strftime("%d/%m/%Y à %H:%M")
    assert local_stamp(paris) in (before, datetime.now(UTC).astimezone(paris).strftime("%d/%m/%Y à %H:%M"))
