"""Bad requests get a JSON error in French with the right status, never a crash or a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import requests

from tests.api.helpers import API, anonymous, assert_error, birth_names, logged_in, patient, running_agent
from tests.live import LiveAgent


@pytest.fixture(scope="module")
def nurse(shared_agent: LiveAgent) -> requests.Session:
    return logged_in(shared_agent, shared_agent.add_account())


@pytest.fixture(scope="module")
def small_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAgent]:
    with running_agent(tmp_path_factory.mktemp("small"), server={"max_body_kib": 1}) as agent:
        yield agent


def _raw_post(client: requests.Session, url: str, data: bytes | str) -> requests.Response:
    return client.post(url, data=data, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("data", ['{"login": "x", "password": ', "not json at all", b"\xff\xfe{}", ""],
                         ids=["truncated", "text", "not-utf8", "empty"])
def test_malformed_json_is_a_400(shared_agent: LiveAgent, nurse: requests.Session, data: str | bytes) -> None:
    assert_error(_raw_post(anonymous(), f"{shared_agent.url}{API}/session", data), 400, "malformed_json")
    assert_error(_raw_post(nurse, f"{shared_agent.url}{API}/patients", data), 400, "malformed_json")


def test_deeply_nested_json_is_refused_not_a_crash(shared_agent: LiveAgent) -> None:
    """A few KiB of brackets is a cheap way for anyone on the network to make the agent fail."""
    reply = _raw_post(anonymous(), f"{shared_agent.url}{API}/session", "[" * 5000 + "]" * 5000)
    assert reply.status_code in (400, 422), f"{reply.status_code}: {reply.text}"
    assert reply.json()["error"] in ("malformed_json", "invalid_request")


def test_json_that_is_not_an_object_is_a_422(shared_agent: LiveAgent) -> None:
    body = assert_error(_raw_post(anonymous(), f"{shared_agent.url}{API}/session", "[1, 2]"), 422, "invalid_request")
    assert body["fields"]


def test_a_body_over_the_limit_is_a_413(small_agent: LiveAgent) -> None:
    big = json.dumps({"login": "x" * 4096, "password": "y", "otp": "123456"})
    assert len(big) > 4096
    body = assert_error(_raw_post(anonymous(), f"{small_agent.url}{API}/session", big), 413, "payload_too_large")
    assert "volumineuse" in body["message"]

    nurse = logged_in(small_agent, small_agent.add_account())
    oversized = patient(used_name="Y" * 4096)
    assert_error(nurse.post(f"{small_agent.url}{API}/patients", json=oversized), 413, "payload_too_large")
    assert oversized["birth_name"] not in birth_names(small_agent, nurse)
    # Under the limit, the same agent takes it.
    assert nurse.post(f"{small_agent.url}{API}/patients", json=patient()).status_code == 201


def test_unknown_api_route_is_a_json_404(shared_agent: LiveAgent) -> None:
    for method in ("GET", "POST"):
        reply = anonymous().request(method, f"{shared_agent.url}{API}/nowhere")
        assert_error(reply, 404, "route_not_found")


def test_unknown_patient_is_a_json_404(shared_agent: LiveAgent, nurse: requests.Session) -> None:
    reply = nurse.get(f"{shared_agent.url}{API}/patients/00000000-0000-0000-0000-000000000000")
    assert_error(reply, 404, "not_found")


def test_unknown_page_is_a_french_html_404(shared_agent: LiveAgent) -> None:
    reply = anonymous().get(f"{shared_agent.url}/nowhere")
    assert reply.status_code == 404
    assert reply.headers["Content-Type"].startswith("text/html")
    assert 'lang="fr"' in reply.text
    assert "Page introuvable" in reply.text
    assert "Content-Security-Policy" in reply.headers


def test_wrong_method_is_a_json_405(shared_agent: LiveAgent) -> None:
    reply = anonymous().patch(f"{shared_agent.url}{API}/session", json={})
    assert_error(reply, 405, "method_not_allowed")


def test_405_names_the_allowed_methods(shared_agent: LiveAgent) -> None:
    """RFC 9110 §15.5.6: a 405 response MUST carry an Allow header listing what the resource accepts."""
    reply = anonymous().patch(f"{shared_agent.url}{API}/session", json={})
    assert reply.status_code == 405
    allowed = {m.strip() for m in reply.headers.get("Allow", "").split(",") if m.strip()}
    assert {"GET", "POST", "DELETE"} <= allowed, reply.headers


@pytest.mark.parametrize(("change", "field", "label"), [
    ({"birth_date": (date.today() + timedelta(days=1)).isoformat()}, "birth_date", "date de naissance"),
    ({"birth_name": None}, "birth_name", "nom de naissance"),
    ({"sex": "X"}, "sex", "sexe"),
    ({"birth_date": "02/11/1931"}, "birth_date", "date de naissance"),
    ({"first_names": []}, "first_names", "prénoms"),
    ({"birth_name": "<script>"}, "birth_name", "nom de naissance"),
], ids=["future-birth", "no-birth-name", "sex-X", "french-date", "no-first-name", "markup-in-name"])
def test_invalid_patient_is_a_422_naming_the_field(shared_agent: LiveAgent, nurse: requests.Session, change: dict, field: str,
                                                    label: str) -> None:
    """The API names the field; the message names it in words a nurse reads."""
    body = patient(**change)
    if change.get("birth_name", "") is None:
        del body["birth_name"]
    before = nurse.get(f"{shared_agent.url}{API}/patients").json()["total"]
    reply = nurse.post(f"{shared_agent.url}{API}/patients", json=body)
    error = assert_error(reply, 422, "invalid_request")
    named = {f["field"]: f["message"] for f in error["fields"]}
    assert field in named, error
    assert named[field] and label in error["message"] and f"{field} :" not in error["message"]
    assert nurse.get(f"{shared_agent.url}{API}/patients").json()["total"] == before
