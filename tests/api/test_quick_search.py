"""The one-box resident search (GET /patients?q=): names in any order, as typed so far, a birth date
or an INS; approaching and same-sounding names when nothing begins as typed."""

from __future__ import annotations

from datetime import date

import pytest
import requests

from agent.access.roles import Role
from agent.identity.quick_search import Typed, parse
from tests.api.helpers import API, assert_error, audit_items, logged_in
from tests.api.test_identity import VALID_INS, create, search, unique_name
from tests.live import LiveAgent


@pytest.fixture(scope="module")
def nurse(shared_agent: LiveAgent) -> requests.Session:
    return logged_in(shared_agent, shared_agent.add_account())


def ids(found: dict) -> list[str]:
    return [p["id"] for p in found["items"]]


def test_words_in_any_order_each_begin_a_name(shared_agent: LiveAgent, nurse: requests.Session) -> None:
    name = unique_name("DUPONT")
    marie = create(shared_agent, nurse, birth_name=name, first_names=["Marie"], sex="F", birth_date="1937-04-05")
    marcel = create(shared_agent, nurse, birth_name=name, first_names=["Marcel"], birth_date="1931-11-02")
    both = search(shared_agent, nurse, q=name[:-2].lower())  # the name as typed so far
    assert set(ids(both)) == {marie["id"], marcel["id"]} and both["found_by"] == "exact"
    for typed in (f"{name} mari", f"Marie {name.lower()}", f"mar {name}"[:-1]):
        found = search(shared_agent, nurse, q=typed)
        assert marie["id"] in ids(found), typed
    only = search(shared_agent, nurse, q=f"{name} marie")
    assert ids(only) == [marie["id"]] and only["items"][0]["match"] == 100.0  # the whole name, the whole first name


def test_a_whole_name_ranks_before_a_longer_one(shared_agent: LiveAgent, nurse: requests.Session) -> None:
    name = unique_name("GARNIER")
    longer = create(shared_agent, nurse, birth_name=name + "ES", first_names=["Paul"])
    exact = create(shared_agent, nurse, birth_name=name, first_names=["Paul"])
    found = search(shared_agent, nurse, q=name)
    assert ids(found)[:2] == [exact["id"], longer["id"]]


def test_nothing_beginning_so_falls_back_to_approaching_and_same_sound(shared_agent: LiveAgent, nurse: requests.Session) -> None:
    born = "1926-08-19"
    dupont = create(shared_agent, nurse, birth_name="DUPONT", first_names=["Eugène"], birth_date=born)
    sounds = search(shared_agent, nurse, q="Dupond 19/08/1926")
    assert sounds["found_by"] == "approaching" and dupont["id"] in ids(sounds)
    assert all(0 < p["match"] < 100 for p in sounds["items"])
    typo = search(shared_agent, nurse, q="Eugnèe Dupont 19/08/1926")  # a first name mistyped
    assert dupont["id"] in ids(typo) and typo["found_by"] == "approaching"
    assert search(shared_agent, nurse, q="Xqzwy 19/08/1926")["total"] == 0


def test_a_birth_date_or_year_alone_and_an_ins(shared_agent: LiveAgent, nurse: requests.Session) -> None:
    someone = create(shared_agent, nurse, birth_name=unique_name("MARTIN"), birth_date="1919-02-28")
    for typed in ("28/02/1919", "28.02.1919", "28021919", "28/2/1919"):
        assert someone["id"] in ids(search(shared_agent, nurse, q=typed)), typed
    assert someone["id"] in ids(search(shared_agent, nurse, q=f"{someone['birth_name'][:4]} 1919"))
    assert someone["id"] not in ids(search(shared_agent, nurse, q=f"{someone['birth_name'][:4]} 1920"))

    qualified = create(shared_agent, nurse, birth_name=unique_name("LEROY"), identity_status="QUAL", ins=VALID_INS,
                       birth_date="1984-12-03", first_names=["Jean"])
    spaced = " ".join((VALID_INS[0], VALID_INS[1:3], VALID_INS[3:5], VALID_INS[5:7], VALID_INS[7:10], VALID_INS[10:13], VALID_INS[13:]))
    for typed in (VALID_INS, spaced, VALID_INS[:13]):
        assert qualified["id"] in ids(search(shared_agent, nurse, q=typed)), typed


def test_each_resident_shown_is_audited_and_the_box_stands_alone(shared_agent: LiveAgent, nurse: requests.Session) -> None:
    created = create(shared_agent, nurse, birth_name=unique_name("BLANC"))
    search(shared_agent, nurse, q=created["birth_name"])
    admin = logged_in(shared_agent, shared_agent.add_account(Role.ADMIN))
    events = [e for e in audit_items(shared_agent, admin, patient_id=created["id"]) if e["action"] == "patient.search"]
    assert events and "recherche en une saisie" in events[-1]["detail"]
    reply = nurse.get(f"{shared_agent.url}{API}/patients", params={"q": "blanc", "name": "blanc"})
    assert_error(reply, 422, "invalid_request")


def test_what_the_box_understands() -> None:
    today = date(2026, 12, 6)
    assert parse("  Dupont   marie-Hélène ", today) == Typed(words=("DUPONT", "MARIEHELENE"))
    assert parse("dupont 05/04/37", today) == Typed(words=("DUPONT",), birth_date=date(1937, 4, 5))
    assert parse("05/04/24", today).birth_date == date(2024, 4, 5)
    assert parse("05/04", today) == Typed()  # a date being typed is not guessed
    assert parse("31/02/1937", today) == Typed()  # no such day
    assert parse("Le Goff 1942", today) == Typed(words=("LE", "GOFF"), birth_year=1942)
    assert parse("2 69 05 49 588 157 80", today) == Typed(ins="269054958815780")
