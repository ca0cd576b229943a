"""Identity search at regional scale (issue 16): approaching search reads the rows holding a name
near what was typed, through indexes, instead of every row sharing two letters; it must find the
same residents, in the same order, at the same rates as the old way (scan_reference.py), whatever
the names: used names, accents, names without letters, typos in the first letters, the one-box
search's words in any order."""

from __future__ import annotations

import importlib
import json
import random
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from unittest import mock

import pytest
from sqlite_utils import Database

from agent.audit import Actor
from agent.identity import names, patients, quick_search
from agent.identity.patients import NewIdentity, SearchCriteria
from agent.identity.phonetic import search_columns
from agent.store import transaction
from agent.store.migrations import available
from tests.unit.identity import scan_reference

Run = Callable[..., Any]

SURNAMES = ["MARTIN", "BERNARD", "DUPONT", "Dupond", "LEFEBVRE", "Lefèvre", "MOREAU", "MOREL", "MERCIER", "Le Goff",
            "LEGRAND", "GARNIER", "GUÉRIN", "CHEVALLIER", "Chevalier", "ROUSSEAU", "ROUSSAUX", "ROBERT", "DURAND",
            "Lœuillet", "MARTINEZ", "ARNAUD", "MATHIEU", "N'DIAYE", "DA SILVA", "BARTIN", "MARIN", "H", "-", "Œ"]
ENDINGS = ["", "", "", "ET", "IN", "EAU", "ON", "Y"]
FIRST_NAMES = ["Marie", "Marcel", "Jeanne", "Jean", "Eugène", "Hélène", "Elène", "Matthieu", "Mathieu", "Arcel", "Marius",
               "Anaïs", "Simone", "Simon", "René", "Renée", "Odette", "Mariette", "Xavier", "Ève"]
START = date(1925, 1, 1)


def identity(rng: random.Random) -> dict[str, Any]:
    birth = rng.choice(SURNAMES) + rng.choice(ENDINGS)
    used = rng.choice(SURNAMES) + rng.choice(ENDINGS) if rng.random() < 0.4 else None
    first = [rng.choice(FIRST_NAMES)]
    return {"id": str(uuid.uuid4()), "birth_name": birth, "used_name": used, "first_names": json.dumps(first, ensure_ascii=False),
            "birth_date": (START + timedelta(days=rng.randrange(400))).isoformat(), "sex": rng.choice("FM"),
            "identity_status": "PROV", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            **search_columns(birth, used, first)}


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 2:
        return word + "E"
    i = rng.randrange(len(word))
    return rng.choice((word[:i] + rng.choice("AEIOURST") + word[i + 1:], word[:i] + word[i + 1:], word[:i] + word[i:i + 2][::-1] + word[i + 2:]))


@pytest.fixture
def populated(db: Database, run: Run, nurse: Actor) -> list[dict[str, Any]]:
    """2,000 identities written straight into the table (as a copy of the demo would), then a few
    made and corrected by the domain functions, so the triggers see inserts and updates."""
    rng = random.Random(16)
    rows = [identity(rng) for _ in range(2000)]
    with transaction(db):
        db["patients"].insert_all(rows, batch_size=500)
    for row in rows[:40]:
        run(db, patients.update, row["id"], {"used_name": rng.choice(SURNAMES), "first_names": [rng.choice(FIRST_NAMES)]}, nurse)
    for _ in range(10):
        run(db, patients.create, NewIdentity(rng.choice(SURNAMES), [rng.choice(FIRST_NAMES)], START, "F"), nurse)
    return [dict(row) for row in db.query("SELECT * FROM patients")]


def both(db: Database, fn: Callable[..., Any], *args: Any) -> tuple[Any, Any]:
    """(what the agent's search found, what it found reading its rows the old way): every (rate,
    resident) scored, before the page is cut (the ranking of these is unchanged) and audited."""
    def everything(db: Database, scored: list[tuple[float, dict]], *_: Any) -> tuple[list[tuple[float, str]], int]:
        return sorted((match, row["id"]) for match, row in scored), len(scored)

    with mock.patch.object(patients, "ranked_page", everything), mock.patch.object(quick_search, "ranked_page", everything):
        with transaction(db):
            now = fn(db, *args)
        with scan_reference.before(), transaction(db):
            then = fn(db, *args)
    return now, then


def test_the_detailed_search_finds_what_it_found_in_the_same_order_and_rates(db: Database, nurse: Actor,
                                                                             populated: list[dict[str, Any]]) -> None:
    rng = random.Random(1)
    checked = found = 0
    for _ in range(150):
        row = rng.choice(populated)
        name = rng.choice([row["birth_name"], row["used_name"] or row["birth_name"]])
        first = json.loads(row["first_names"])[0]
        for criteria in (
            SearchCriteria(name=typo(rng, name.upper()), mode="approaching"),
            SearchCriteria(name=typo(rng, name.upper()), first_name=rng.choice([first, typo(rng, first.upper())]), mode="approaching"),
            SearchCriteria(name=name, first_name=first, mode=rng.choice(["phonetic", "exact"])),
            SearchCriteria(name=typo(rng, name), birth_date=date.fromisoformat(row["birth_date"]), mode=rng.choice(["approaching", "phonetic"])),
            SearchCriteria(first_name=typo(rng, first), sex=row["sex"], mode="approaching"),
        ):
            now, then = both(db, patients.search, criteria, nurse)
            assert now == then, criteria
            checked, found = checked + 1, found + now[1]
    assert checked == 750 and found > 5000  # most searches find someone: the comparison is not of empty answers


@pytest.mark.parametrize("name", ["-", "Œ", "H", "e", "Lœuillet", "LOEUILLET", "da silva", "Ndiaye"])
def test_names_with_few_or_no_letters_are_found_as_they_were(db: Database, nurse: Actor, populated: list[dict[str, Any]],
                                                             name: str) -> None:
    for criteria in (SearchCriteria(name=name, mode="approaching"), SearchCriteria(name="Marie", first_name=name, mode="approaching")):
        now, then = both(db, patients.search, criteria, nurse)
        assert now == then
    now, then = both(db, quick_search.search, quick_search.parse(f"{name} zzz"), nurse)
    assert now == then


def test_the_one_box_search_finds_what_it_found_in_the_same_order_and_rates(db: Database, nurse: Actor,
                                                                           populated: list[dict[str, Any]]) -> None:
    rng = random.Random(2)
    approaching = 0
    for _ in range(300):
        row = rng.choice(populated)
        words = [rng.choice([row["birth_name"], row["used_name"] or row["birth_name"]]), json.loads(row["first_names"])[0]]
        words = [typo(rng, w.upper()) if rng.random() < 0.7 else w for w in words][:rng.choice([1, 2, 2])]
        rng.shuffle(words)
        if rng.random() < 0.3:
            words.append(row["birth_date"][:4])
        typed = quick_search.parse(" ".join(words))
        now, then = both(db, quick_search.search, typed, nurse)
        assert now == then, typed
        approaching += now[2] == "approaching"
    assert approaching > 150


def test_a_search_reads_the_rows_it_may_return_not_every_row_sharing_two_letters(db: Database, run: Run, nurse: Actor) -> None:
    """The cost follows the rows holding a near name: 3,000 residents more whose names begin with
    the same two letters, far in spelling, are not read (the old way read all of them)."""
    rng = random.Random(3)
    dupont = run(db, patients.create, NewIdentity("DUPONT", ["Marie"], START, "F"), nurse)
    criteria = SearchCriteria(name="Dupnot", first_name="Marie", mode="approaching")
    typed = quick_search.parse("dupnot marie")
    assert len(patients._candidates(db, criteria)) == 1
    far = []
    for _ in range(3000):
        far.append(identity(rng) | search_columns("DU" + "".join(rng.choice("XYZKW") for _ in range(6)), None, ["Marie"]))
    with transaction(db):
        db["patients"].insert_all(far, batch_size=500)
    assert [r["id"] for r in patients._candidates(db, criteria)] == [dupont.id]
    assert len(scan_reference.candidates(db, criteria)) == 3001
    assert [r["id"] for _, r in quick_search._approaching(db, typed)] == [dupont.id]
    assert len(scan_reference.quick_approaching(db, typed)) == 1  # found the same, after reading 3,001 rows


@pytest.mark.parametrize("criteria", [
    SearchCriteria(name="Dupnot", first_name="Marie", mode="approaching"),
    SearchCriteria(name="Dupnot", mode="approaching"),
    SearchCriteria(first_name="Mraie", mode="approaching"),
    SearchCriteria(name="Dupond", first_name="Marie", mode="phonetic"),
    SearchCriteria(name="Dupont", first_name="Marie", mode="exact"),
], ids=["approaching", "approaching_name", "approaching_first_name", "phonetic", "exact"])
def test_sqlite_reads_the_rows_through_indexes(db: Database, run: Run, nurse: Actor, criteria: SearchCriteria) -> None:
    run(db, patients.create, NewIdentity("DUPONT", ["Marie"], START, "F"), nurse)
    executed: list[str] = []
    db.conn.set_trace_callback(executed.append)  # the statements with their values
    try:
        patients._candidates(db, criteria)
    finally:
        db.conn.set_trace_callback(None)
    [sql] = [s for s in executed if "FROM patients" in s]
    plan = " / ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql).fetchall())
    assert "SCAN" not in plan and "USING INDEX" in plan, plan


def name_counts(db: Database) -> dict[tuple[str, str], int]:
    """What identity_names should hold, counted from the identities themselves."""
    counted: dict[tuple[str, str], int] = {}
    for kind in ("birth_name", "used_name", "first_name"):
        for name, phon, n in db.execute(f"SELECT {kind}_norm, {kind}_phon, count(*) FROM patients WHERE {kind}_norm <> '' GROUP BY 1, 2"):
            counted[(name, phon)] = counted.get((name, phon), 0) + n
    return counted


def held(db: Database) -> dict[tuple[str, str], int]:
    return {(name, phon): uses for name, phon, uses in db.execute("SELECT name, phon, uses FROM identity_names WHERE uses > 0")}


def test_the_names_follow_every_write(db: Database, populated: list[dict[str, Any]]) -> None:
    assert held(db) == name_counts(db)
    with transaction(db):
        db.execute("DELETE FROM patients WHERE id = ?", [populated[0]["id"]])
        db.execute("UPDATE patients SET first_name_norm = 'ZOE', first_name_phon = 'ZOE' WHERE id = ?", [populated[1]["id"]])
    assert held(db) == name_counts(db)


def test_the_migration_lists_the_names_already_held() -> None:
    db = Database(memory=True)
    steps = [importlib.import_module(name) for _, name in available()]
    number = next(n for n, module in enumerate(steps, 1) if module.__name__.endswith("m0025_identity_names"))
    for module in steps[:number - 1]:
        module.up(db)
    rng = random.Random(4)
    db["patients"].insert_all([identity(rng) for _ in range(300)])
    steps[number - 1].up(db)
    assert held(db) == name_counts(db) and len(held(db)) > 50


def test_the_names_held_in_memory_follow_commits_and_rollbacks(db: Database, run: Run, nurse: Actor) -> None:
    def near(word: str) -> set[str]:
        with transaction(db):
            return names.spelt_near(db, word, patients.APPROACHING_THRESHOLD)

    run(db, patients.create, NewIdentity("DUPONT", ["Marie"], START, "F"), nurse)
    assert near("DUPONX") == {"DUPONT"}
    with pytest.raises(RuntimeError), transaction(db):  # a name seen, then rolled back: its id is given again below
        patients.create(db, NewIdentity("QUENTINAX", ["Marie"], START, "F"), nurse)
        assert names.spelt_near(db, "QUENTINAZ", patients.APPROACHING_THRESHOLD) == {"QUENTINAX"}
        raise RuntimeError("refused")
    run(db, patients.create, NewIdentity("QUENTINOU", ["Marie"], START, "F"), nurse)
    assert near("QUENTINAZ") == {"QUENTINOU"}
    assert near("DUPONX") == {"DUPONT"}
