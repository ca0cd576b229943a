"""Patient identities on a real database, without HTTP: what a nurse sees when she registers a
resident (a likely duplicate is named before a second file is made), when she searches (exact,
approaching, phonetic), when she corrects a name (the correction is searchable at once), and what
an auditor finds afterwards (every identity shown is a traced access, under that patient)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlite_utils import Database

from agent import audit
from agent.audit import Actor
from agent.identity import patients
from agent.identity.patients import Identity, NewIdentity, SearchCriteria

Run = Callable[..., Any]
BORN = date(1931, 11, 2)


def new(birth_name: str = "DUPONT", first_names: list[str] | None = None, birth_date: date = BORN, sex: str = "M",
        **fields: Any) -> NewIdentity:
    return NewIdentity(birth_name=birth_name, first_names=first_names or ["Marcel"], birth_date=birth_date, sex=sex, **fields)


def register(db: Database, run: Run, actor: Actor, **fields: Any) -> Identity:
    """A resident created as the wizard does after a confirmed duplicate check."""
    return run(db, patients.create, new(**fields), actor)


def trail(db: Database, patient_id: str) -> list[tuple[str, str]]:
    """(action, outcome) of the patient's audit records, oldest first."""
    return [(r.action, r.outcome) for r in reversed(list(audit.search(db, patient_id=patient_id)))]


def found(db: Database, run: Run, actor: Actor, **criteria: Any) -> list[Identity]:
    page, total = run(db, patients.search, SearchCriteria(**criteria), actor)
    assert total == len(page)
    return page


def patient_count(db: Database) -> int:
    return db.execute("SELECT count(*) FROM patients").fetchone()[0]


# --- duplicates ---------------------------------------------------------------------------------

def test_a_likely_duplicate_is_named_instead_of_a_second_file(db: Database, run: Run, nurse: Actor) -> None:
    first = register(db, run, nurse)
    answer = run(db, patients.create_unless_duplicate, new(birth_name="Dupond"), nurse, False)
    assert isinstance(answer, list) and [d.id for d in answer] == [first.id]
    assert answer[0].display_name == "DUPONT Marcel"
    assert patient_count(db) == 1
    outbox_creates = db.execute("SELECT count(*) FROM outbox WHERE entity = 'patient' AND operation = 'create'").fetchone()[0]
    assert outbox_creates == 1  # the regional server hears of one resident, not two
    # Naming the existing resident to the nurse is an access to that resident's data.
    assert trail(db, first.id) == [("patient.create", audit.SUCCESS), ("patient.read", audit.SUCCESS)]
    [shown] = [r for r in audit.search(db, patient_id=first.id) if r.action == "patient.read"]
    assert shown.detail == "doublon probable signalé à la création" and shown.actor == nurse.login


def test_a_confirmed_duplicate_is_created(db: Database, run: Run, nurse: Actor) -> None:
    first = register(db, run, nurse)
    second = run(db, patients.create_unless_duplicate, new(birth_name="Dupond"), nurse, True)
    assert isinstance(second, Identity) and second.id != first.id
    assert patient_count(db) == 2


def test_a_married_name_that_sounds_like_a_birth_name_is_a_likely_duplicate(db: Database, run: Run, nurse: Actor) -> None:
    first = register(db, run, nurse, birth_name="LEFEBVRE", first_names=["Germaine"], sex="F")
    again = new(birth_name="MOREAU", used_name="Lefèvre", first_names=["Germaine"], sex="F")
    assert [d.id for d in patients.likely_duplicates(db, again)] == [first.id]


@pytest.mark.parametrize("other", [
    {"birth_date": date(1931, 11, 3)},     # another birth date: another person
    {"first_names": ["Marc"]},             # another first name
    {"birth_name": "DURAND"},              # another name
], ids=["birth_date", "first_name", "name"])
def test_another_person_is_created_without_question(db: Database, run: Run, nurse: Actor, other: dict[str, Any]) -> None:
    register(db, run, nurse)
    made = run(db, patients.create_unless_duplicate, new(**other), nurse, False)
    assert isinstance(made, Identity)
    assert patient_count(db) == 2


# --- search -------------------------------------------------------------------------------------

def test_exact_search_ignores_case_accents_and_spaces_but_not_spelling(db: Database, run: Run, nurse: Actor) -> None:
    goff = register(db, run, nurse, birth_name="LE GOFF", first_names=["Anaïs"], sex="F")
    register(db, run, nurse, birth_name="LEGRAND", first_names=["Anaïs"], sex="F")
    assert [p.id for p in found(db, run, nurse, name="legoff")] == [goff.id]
    assert [p.match for p in found(db, run, nurse, name="Le Goff", first_name="ANAIS")] == [100.0]
    assert found(db, run, nurse, name="Le Gof") == []


def test_exact_search_finds_the_used_name_too(db: Database, run: Run, nurse: Actor) -> None:
    married = register(db, run, nurse, birth_name="MOREAU", used_name="LEFEBVRE", first_names=["Jeanne"], sex="F")
    assert [p.id for p in found(db, run, nurse, name="Lefebvre")] == [married.id]
    assert [p.id for p in found(db, run, nurse, name="Moreau")] == [married.id]


def test_phonetic_search_finds_what_sounds_the_same(db: Database, run: Run, nurse: Actor) -> None:
    dupont = register(db, run, nurse, first_names=["Matthieu"])
    register(db, run, nurse, birth_name="DUPRAT", first_names=["Matthieu"])
    assert found(db, run, nurse, name="Dupond") == []  # exact: another spelling is another name
    [hit] = found(db, run, nurse, name="Dupond", first_name="Mathieu", mode="phonetic")
    assert hit.id == dupont.id
    assert 0 < hit.match < 100  # not the same spelling: the nurse sees it is not an exact match


def test_approaching_search_forgives_a_typo_and_ranks_the_closest_first(db: Database, run: Run, nurse: Actor) -> None:
    close = register(db, run, nurse, birth_name="ROUSSEAU", first_names=["Simone"], sex="F")
    farther = register(db, run, nurse, birth_name="ROUSSAUX", first_names=["Simone"], sex="F")
    register(db, run, nurse, birth_name="ROBERT", first_names=["Simone"], sex="F")  # shares "RO", too far
    hits = found(db, run, nurse, name="Rouseau", mode="approaching")
    assert [p.id for p in hits] == [close.id, farther.id]
    assert hits[0].match > hits[1].match >= patients.APPROACHING_THRESHOLD
    assert found(db, run, nurse, name="Zyzzyva", mode="approaching") == []


def test_search_by_birth_date_ins_and_sex_is_exact(db: Database, run: Run, nurse: Actor) -> None:
    ins = "184127645108946"
    qualified = register(db, run, nurse, ins=ins, identity_status="QUAL")
    register(db, run, nurse, birth_name="DURAND", sex="F")
    register(db, run, nurse, birth_name="DUVAL", birth_date=date(1940, 1, 1))
    assert [p.id for p in found(db, run, nurse, ins=ins)] == [qualified.id]
    assert {p.birth_name for p in found(db, run, nurse, birth_date=BORN, sex="M")} == {"DUPONT"}
    assert len(found(db, run, nurse, birth_date=BORN)) == 2


def test_search_pages_keep_the_total(db: Database, run: Run, nurse: Actor) -> None:
    for _ in range(7):
        register(db, run, nurse, birth_name="BERNARD")
    first, total = run(db, patients.search, SearchCriteria(name="Bernard"), nurse, 5, 0)
    rest, again = run(db, patients.search, SearchCriteria(name="Bernard"), nurse, 5, 5)
    assert (len(first), len(rest), total, again) == (5, 2, 7, 7)
    assert not {p.id for p in first} & {p.id for p in rest}


# --- corrections --------------------------------------------------------------------------------

def test_a_corrected_name_is_searchable_at_once_and_the_old_one_is_not(db: Database, run: Run, nurse: Actor) -> None:
    made = register(db, run, nurse, birth_name="GIRARD", first_names=["Paul"])
    updated = run(db, patients.update, made.id, {"birth_name": "CHEVALLIER", "first_names": ["Matthieu", "Paul"]}, nurse)
    assert updated is not None and updated.display_name == "CHEVALLIER Matthieu"
    assert found(db, run, nurse, name="Girard") == []
    assert [p.id for p in found(db, run, nurse, name="chevallier", first_name="matthieu")] == [made.id]
    assert [p.id for p in found(db, run, nurse, name="Chevalier", first_name="Mathieu", mode="phonetic")] == [made.id]
    assert found(db, run, nurse, name="Chevallier", first_name="Paul") == []  # the used first name is the first one
    # And a newcomer who sounds like the corrected resident is now flagged as a likely duplicate.
    assert [d.id for d in patients.likely_duplicates(db, new(birth_name="Chevalier", first_names=["Mathieu"]))] == [made.id]


def test_a_used_name_added_later_is_searchable_and_queued_for_the_region(db: Database, run: Run, nurse: Actor) -> None:
    made = register(db, run, nurse, birth_name="MARTIN", first_names=["Jeanne"], sex="F")
    run(db, patients.update, made.id, {"used_name": "Lefèvre"}, nurse)
    assert [p.id for p in found(db, run, nurse, name="Lefebvre", mode="phonetic")] == [made.id]
    [(payload,)] = db.execute("SELECT payload FROM outbox WHERE entity_id = ? AND operation = 'update'", [made.id]).fetchall()
    sent = json.loads(payload)
    assert sent["used_name"] == "Lefèvre" and sent["birth_name"] == "MARTIN"
    assert not [k for k in sent if k.endswith(("_norm", "_phon"))] and "created_by" not in sent
    [record] = [r for r in audit.search(db, patient_id=made.id) if r.action == "patient.update"]
    assert record.detail == "used_name"


def test_correcting_an_unknown_resident_changes_nothing(db: Database, run: Run, nurse: Actor) -> None:
    assert run(db, patients.update, "nobody", {"used_name": "X"}, nurse) is None
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


# --- reads are audited --------------------------------------------------------------------------

def test_every_read_is_traced_under_the_patient(db: Database, run: Run, nurse: Actor) -> None:
    made = register(db, run, nurse)
    doctor = Actor(login="dr.petit", role="doctor", remote_addr="10.0.0.9")
    assert run(db, patients.read, made.id, doctor).display_name == "DUPONT Marcel"
    [record] = [r for r in audit.search(db, patient_id=made.id) if r.action == "patient.read"]
    assert (record.actor, record.role, record.remote_addr, record.outcome) == ("dr.petit", "doctor", "10.0.0.9", audit.SUCCESS)
    assert audit.verify(db) == (2, None)


def test_reading_an_unknown_resident_is_traced_as_a_failure(db: Database, run: Run, nurse: Actor) -> None:
    assert run(db, patients.read, "no-such-resident", nurse) is None
    [record] = list(audit.search(db, actor=nurse.login))
    assert (record.action, record.outcome, record.detail) == ("patient.read", audit.FAILURE, "identité introuvable")


def test_a_search_traces_each_resident_shown_and_only_them(db: Database, run: Run, nurse: Actor) -> None:
    shown = [register(db, run, nurse, birth_name="BERNARD", first_names=[first]) for first in ("Alain", "Bruno", "Claude")]
    other = register(db, run, nurse, birth_name="DURAND")
    page, _ = run(db, patients.search, SearchCriteria(name="Bernard"), nurse, 2, 0)
    traced = {r.patient_id for r in audit.search(db, actor=nurse.login) if r.action == "patient.search"}
    assert traced == {p.id for p in page} and len(traced) == 2
    assert other.id not in traced and len({p.id for p in shown} - traced) == 1


def test_the_ins_is_shown_only_for_a_qualified_identity(db: Database, run: Run, nurse: Actor) -> None:
    ins = "184127645108946"
    provisional = register(db, run, nurse, ins=ins, identity_status="VALI")
    qualified = register(db, run, nurse, birth_name="DURAND", ins=ins, identity_status="QUAL")
    assert run(db, patients.read, provisional.id, nurse).shown_ins is None
    assert run(db, patients.read, qualified.id, nurse).shown_ins == ins


# --- the identity status rules (RNIV): a retrieved or qualified identity keeps the teleservice's traits

QUALIFIED_INS = "1311175056001" + "23"


def test_a_qualified_identitys_strict_traits_change_only_by_a_new_qualification(db: Database, run: Run, nurse: Actor) -> None:
    resident = register(db, run, nurse, identity_status="QUAL", ins=QUALIFIED_INS, birth_insee="75056")
    for change in ({"birth_name": "DUPOND"}, {"first_names": ["Marcel", "Henri"]}, {"birth_date": date(1931, 11, 3)},
                   {"sex": "F"}, {"birth_insee": "69123"}, {"ins": "2" + QUALIFIED_INS[1:]}, {"birth_name": "DUPOND", "identity_status": "QUAL"}):
        with pytest.raises(patients.IdentityRefused) as refused:
            run(db, patients.update, resident.id, change, nurse)
        assert refused.value.code == "identity_traits_locked"
    # What the establishment keeps up to date stays open; the same traits sent again are no change.
    run(db, patients.update, resident.id, {"used_name": "LEGRAND", "civility": "M.", "address_line": "12 rue des Lilas",
                                           "postal_code": "69003", "city": "Lyon", "email": "m.dupont@example.org",
                                           "birth_name": "DUPONT", "birth_date": BORN}, nurse)
    # A new retrieval brings the teleservice's traits with its INS and status.
    requalified = run(db, patients.update, resident.id, {"first_names": ["Marcel", "André"], "ins": QUALIFIED_INS,
                                                         "identity_status": "QUAL"}, nurse)
    assert requalified.first_names == ["Marcel", "André"] and requalified.city == "Lyon"
    updates = [r.detail for r in audit.search(db, patient_id=resident.id) if r.action == "patient.update"]
    assert updates[0] == "first_names (nouvelle qualification)"  # newest first; the unchanged ins and status not listed
    assert "birth_name" not in updates[1] and "address_line" in updates[1]


def test_a_validated_identity_is_corrected_freely_but_qualified_only_with_an_ins(db: Database, run: Run, nurse: Actor) -> None:
    resident = register(db, run, nurse, identity_status="VALI")
    corrected = run(db, patients.update, resident.id, {"birth_name": "DUPOND", "sex": "M", "birth_date": date(1931, 11, 3)}, nurse)
    assert (corrected.birth_name, corrected.birth_date) == ("DUPOND", "1931-11-03")
    with pytest.raises(patients.IdentityRefused) as refused:
        run(db, patients.update, resident.id, {"identity_status": "QUAL"}, nurse)
    assert refused.value.code == "identity_needs_ins"
