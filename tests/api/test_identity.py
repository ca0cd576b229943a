"""Patient identities: the fields of the French identity rules, and the three search modes."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
import requests

from agent.access.roles import Role
from tests.api.helpers import API, assert_error, audit_items, logged_in
from tests.live import LiveAgent

VALID_INS = "184127645108946"


@pytest.fixture(scope="module")
def nurse(shared_agent: LiveAgent) -> requests.Session:
    return logged_in(shared_agent, shared_agent.add_account())


def create(agent: LiveAgent, client: requests.Session, **fields: object) -> dict:
    """Create an identity; these tests create look-alikes on purpose, so duplicates are confirmed."""
    body = {"birth_name": "DUPONT", "first_names": ["Marcel"], "birth_date": "1931-11-02", "sex": "M",
            "confirm_duplicate": True, **fields}
    reply = client.post(f"{agent.url}{API}/patients", json=body)
    assert reply.status_code == 201, reply.text
    return reply.json()


def search(agent: LiveAgent, client: requests.Session, **params: object) -> dict:
    reply = client.get(f"{agent.url}{API}/patients", params=params)
    assert reply.status_code == 200, reply.text
    return reply.json()


def unique_name(stem: str) -> str:
    """A name of its own per test, that still sounds like `stem` (letters only, appended)."""
    return stem + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:6]).upper()


def test_dupond_finds_dupont_phonetically_but_not_exactly(shared_agent: LiveAgent, nurse: requests.Session) -> None:
    born = "1929-04-12"
    created = create(shared_agent, nurse, birth_name="DUPONT", birth_date=born)
    phonetic = search(shared_agent, nurse, name="Dupond", birth_date=born, mode="phonetic")
    assert created["id"] in [p["id"] for p in phonetic["items"]]
    assert all(0 < p["match"] < 100 for p in phonetic["items"])
    assert search(shared_agent, nurse, name="Dupond", birth_date=born, mode="exact")["total"] == 0
    exact = search(shared_agent, nurse, name="dupont", birth_date=born, mode="exact")
    assert [p["match"] for p in exact["items"]] == [100.0] * exact["total"] and exact["total"] >= 1


def test_lefevre_finds_lefebvre(shared_agent: LiveAgent, nurse: requests.Session) -> None:
    created = create(shared_agent, nurse, birth_name="MOREAU", used_name="LEFEBVRE", first_names=["Jeanne"], sex="F",
                     birth_date="1934-03-14")
    found = search(shared_agent, nurse, name="Lefèvre", first_name="Jeanne", mode="phonetic")
    assert created["id"] in [p["id"] for p in found["items"]]


def test_approaching_search_forgives_a_typo_and_ranks_by_match(shared_agent: LiveAgent, nurse: requests.Session) -> None:
    name = unique_name("ROUSSEAU")
    close = create(shared_agent, nurse, birth_name=name, first_names=["Simone"], sex="F", birth_date="1938-06-21")
    far = create(shared_agent, nurse, birth_name=name[:-2] + "QQ", first_names=["Simone"], sex="F", birth_date="1938-06-21")
    typo = name[:3] + "S" + name[4:]  # ROUSSEAU -> ROUSSEAU with one letter changed
    found = search(shared_agent, nurse, name=typo, mode="approaching", birth_date="1938-06-21")
    ids = [p["id"] for p in found["items"]]
    assert ids.index(close["id"]) < ids.index(far["id"])
    assert found["items"][0]["match"] >= found["items"][-1]["match"]
    assert search(shared_agent, nurse, name="ZZZZZZZZ", mode="approaching")["total"] == 0


def test_fifty_shown_with_the_total(shared_agent: LiveAgent, nurse: requests.Session) -> None:
    name = unique_name("BERNARD")
    for _ in range(55):
        create(shared_agent, nurse, birth_name=name)
    page = search(shared_agent, nurse, name=name)
    assert (len(page["items"]), page["total"]) == (50, 55)
    rest = search(shared_agent, nurse, name=name, offset=50)
    assert len(rest["items"]) == 5 and not {p["id"] for p in rest["items"]} & {p["id"] for p in page["items"]}


def test_ins_is_checked_and_shown_only_for_a_qualified_identity(shared_agent: LiveAgent, nurse: requests.Session) -> None:
    bad = nurse.post(f"{shared_agent.url}{API}/patients", json={
        "birth_name": "FAURE", "first_names": ["Louise"], "birth_date": "1933-09-08", "sex": "F", "ins": VALID_INS[:-2] + "47"})
    body = assert_error(bad, 422, "invalid_request")
    assert "clé" in body["message"] and "INS" in body["message"]
    validated = create(shared_agent, nurse, ins="1 84 12 76 451 089 46", identity_status="VALI")
    assert validated["ins"] is None
    qualified = create(shared_agent, nurse, ins=VALID_INS, identity_status="QUAL")
    assert qualified["ins"] == VALID_INS
    assert_error(nurse.post(f"{shared_agent.url}{API}/patients", json={
        "birth_name": "FAURE", "first_names": ["Louise"], "birth_date": "1933-09-08", "sex": "F", "identity_status": "QUAL"}),
        422, "invalid_request")
    assert {p["id"] for p in search(shared_agent, nurse, ins="1 84 12 76 451 089 46")["items"]} >= {validated["id"], qualified["id"]}


def test_contacts_and_birthplace_are_checked(shared_agent: LiveAgent, nurse: requests.Session) -> None:
    made = create(shared_agent, nurse, mobile="06 12 34 56 78", email="Marc.Dupont@Example.fr", birth_insee="2a004")
    assert (made["mobile"], made["email"], made["birth_insee"]) == ("+33612345678", "Marc.Dupont@example.fr", "2A004")
    for wrong in ({"mobile": "01 45 67 89 10"}, {"mobile": "06 12"}, {"email": "marc@"},
                  {"birth_insee": "75056", "birth_country": "Belgique"}, {"birth_insee": "7505"},
                  {"birth_insee": "99131"}):  # INSEE's code of Belgium: a country, not a commune
        reply = nurse.post(f"{shared_agent.url}{API}/patients", json={
            "birth_name": "DUPONT", "first_names": ["Marc"], "birth_date": "1950-01-01", "sex": "M", **wrong})
        assert_error(reply, 422, "invalid_request")


def test_the_birthplace_is_said_by_its_name_and_found_by_the_name_typed(shared_agent: LiveAgent, nurse: requests.Session) -> None:
    """The INSEE code is what the identity keeps; people read and type the commune's name."""
    url = f"{shared_agent.url}{API}"
    merged = create(shared_agent, nurse, birth_insee="01015")  # Arbignieu, merged into Arboys en Bugey in 2016
    assert merged["birth_place"] == "Arboys en Bugey (01), autrefois Arbignieu"
    assert nurse.get(f"{url}/patients/{merged['id']}").json()["birth_place"] == merged["birth_place"]
    assert create(shared_agent, nurse, birth_insee="98799")["birth_place"] is None  # a code the table does not hold
    assert create(shared_agent, nurse, birth_country="Belgique")["birth_place"] is None

    found = nurse.get(f"{url}/communes", params={"q": "villeurb"}).json()["items"]
    assert found[0] == {"code": "69266", "name": "Villeurbanne", "department": "69", "label": "Villeurbanne (69)", "current": True}
    by_post = nurse.get(f"{url}/communes", params={"q": "69003"}).json()["items"]
    assert "69383" in [c["code"] for c in by_post]  # Lyon 3e Arrondissement: how natives of Lyon are coded
    [former] = nurse.get(f"{url}/communes", params={"q": "arbignieu"}).json()["items"]
    assert (former["code"], former["current"]) == ("01015", False)
    assert nurse.get(f"{url}/communes", params={"q": "zzzz"}).json()["items"] == []

    assert_error(requests.get(f"{url}/communes", params={"q": "lyon"}, timeout=10), 401, "not_logged_in")
    assert_error(nurse.get(f"{url}/communes", params={"q": "x" * 61}), 422, "invalid_request")
    assert_error(nurse.get(f"{url}/communes"), 422, "invalid_request")


def test_a_correction_is_searchable_audited_and_queued(shared_agent: LiveAgent, nurse: requests.Session) -> None:
    made = create(shared_agent, nurse, birth_name=unique_name("GIRARD"))
    used = unique_name("CHEVALIER")
    reply = nurse.patch(f"{shared_agent.url}{API}/patients/{made['id']}", json={"used_name": used})
    assert reply.status_code == 200, reply.text
    assert reply.json()["display_name"].startswith(used)
    assert [p["id"] for p in search(shared_agent, nurse, name=used)["items"]] == [made["id"]]
    assert_error(nurse.patch(f"{shared_agent.url}{API}/patients/{made['id']}", json={"birth_name": None}), 422, "invalid_request")
    assert_error(nurse.patch(f"{shared_agent.url}{API}/patients/nobody", json={"used_name": "X"}), 404, "not_found")
    admin = logged_in(shared_agent, shared_agent.add_account(Role.ADMIN))
    actions = [r["action"] for r in audit_items(shared_agent, admin, patient_id=made["id"])]
    assert "patient.update" in actions and "patient.search" in actions and "patient.create" in actions
    with sqlite3.connect(f"file:{shared_agent.data_dir / 'telecart.db'}?mode=ro", uri=True) as db:
        queued = db.execute("SELECT operation FROM outbox WHERE entity_id = ? ORDER BY id", [made["id"]]).fetchall()
    assert [op for (op,) in queued] == ["create", "update"]


def test_a_likely_duplicate_is_named_before_anything_is_created(shared_agent: LiveAgent, nurse: requests.Session) -> None:
    name = unique_name("DUPONT")
    first = create(shared_agent, nurse, birth_name=name, first_names=["Marcel"], birth_date="1927-02-03")
    again = {"birth_name": name.lower(), "first_names": ["Marcel"], "birth_date": "1927-02-03", "sex": "M"}
    before = search(shared_agent, nurse, name=name)["total"]
    body = assert_error(nurse.post(f"{shared_agent.url}{API}/patients", json=again), 409, "likely_duplicate")
    assert [d["id"] for d in body["duplicates"]] == [first["id"]]
    assert first["display_name"] in body["message"]
    assert search(shared_agent, nurse, name=name)["total"] == before  # nothing created
    # Another birth date is another person; a confirmed creation goes through.
    assert nurse.post(f"{shared_agent.url}{API}/patients", json={**again, "birth_date": "1927-02-04"}).status_code == 201
    assert nurse.post(f"{shared_agent.url}{API}/patients", json={**again, "confirm_duplicate": True}).status_code == 201


def test_a_phonetic_look_alike_is_a_likely_duplicate(shared_agent: LiveAgent, nurse: requests.Session) -> None:
    first = create(shared_agent, nurse, birth_name="LEFEBVRE", first_names=["Germaine"], sex="F", birth_date="1925-05-06")
    reply = nurse.post(f"{shared_agent.url}{API}/patients", json={
        "birth_name": "Lefèvre", "first_names": ["Germaine"], "birth_date": "1925-05-06", "sex": "F"})
    body = assert_error(reply, 409, "likely_duplicate")
    assert first["id"] in [d["id"] for d in body["duplicates"]]
