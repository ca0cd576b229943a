"""The OpenAPI document describes the agent as it runs: it is valid OpenAPI 3, lists every route,
and schemathesis, fuzzing every operation (logged in as a nurse, and anonymously), finds no server
error and no answer outside the documented statuses and schemas."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from agent import __version__
from agent.access.roles import Role
from agent.api.openapi import build_document
from agent.api.routes import API
from agent.api.server import build_app
from agent.app import Agent
from agent.config import Config
from tests.live import LiveAgent, running_agent

DOCUMENT = "/api/v1/openapi.json"
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance, negative_data_rejection]
FUZZ_CONFIG = """
[generation]
max-examples = 25
# The session cookie is ours to send, not a parameter to fuzz.
with-security-parameters = false

[checks.negative_data_rejection]
# Schemathesis's list plus 413: a body past the agent's size limit is refused as Content Too Large
# before it is parsed (declared on every route with a body: agent/api/routing.py).
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
"""


@pytest.fixture(scope="module")
def fuzzed_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAgent]:
    with running_agent(tmp_path_factory.mktemp("fuzz")) as agent:
        yield agent
        log = agent.log()
    assert "Traceback" not in log and "unexpected error" not in log, log[-5000:]


@pytest.fixture(scope="module")
def nurse(fuzzed_agent: LiveAgent) -> requests.Session:
    return fuzzed_agent.login(fuzzed_agent.add_account())


# The document exactly as the agent builds it at start (test_served_document_is_the_built_one
# checks that the agent serves this very document), so the tests are generated at collection time.
# (schemathesis.pytest.from_fixture would load it from the live agent, but its lazy loader sets
# `Function._nodeid`, which pytest 9.2 no longer has.)
schema = schemathesis.openapi.from_dict(build_document(API, __version__), config=SchemathesisConfig.from_str(FUZZ_CONFIG))
# Anonymously most operations answer 401 before reading what was sent: fewer examples each (the
# link and share routes, whose credential is in the path, still get ten).
ANONYMOUS_EXAMPLES = 10
# Nor the coverage phase's boundary values, which a 401 never looks at (it halved this test's time).
anonymous_schema = schemathesis.openapi.from_dict(
    build_document(API, __version__),
    config=SchemathesisConfig.from_str("[phases.coverage]\nenabled = false\n"
                                       + FUZZ_CONFIG.replace("max-examples = 25", f"max-examples = {ANONYMOUS_EXAMPLES}")))


# Not fuzzed as the nurse: logging out and locking (the session must survive every case), and the
# endless streams: the camera preview (MJPEG, tests/call reads it) and the card reader's events
# (tests/card and the kiosk's tests read them).
@(schema.exclude(method="DELETE", path="/api/v1/session").exclude(method="POST", path="/api/v1/session/lock")
  .exclude(method="GET", path="/api/v1/cameras/preview").exclude(method="GET", path="/api/v1/card/events").parametrize())
def test_api_fuzzed_as_a_nurse(case: schemathesis.Case, nurse: requests.Session, fuzzed_agent: LiveAgent) -> None:
    response = case.call_and_validate(base_url=fuzzed_agent.url, session=nurse, checks=CHECKS, timeout=10)
    # Every case really ran as the logged-in nurse: the session cookie always, and the CSRF token
    # unless schemathesis deliberately left the required header out (a negative case).
    sent = response.request.headers
    assert "telecart_session=" in sent.get("Cookie", ""), sent
    refused = {"not_logged_in", "session_expired", "session_locked"}
    if sent.get("X-CSRF-Token") == nurse.headers["X-CSRF-Token"]:
        refused.add("csrf_missing")
    if response.status_code >= 400 and response.headers.get("content-type", [""])[0].startswith("application/json"):
        assert response.json().get("error") not in refused, response.text
    # The session survived whatever was sent: still logged in, still unlocked.
    session = nurse.get(f"{fuzzed_agent.url}/api/v1/session", timeout=10)
    assert session.status_code == 200 and session.json()["locked"] is False, session.text


@pytest.fixture(scope="module")
def admin(fuzzed_agent: LiveAgent) -> requests.Session:
    return fuzzed_agent.login(fuzzed_agent.add_account(Role.ADMIN))


@schema.include(path="/api/v1/audit").parametrize()
def test_audit_fuzzed_as_an_admin(case: schemathesis.Case, admin: requests.Session, fuzzed_agent: LiveAgent) -> None:
    """A nurse may not read the audit trail (403): the admin reaches its handler."""
    response = case.call_and_validate(base_url=fuzzed_agent.url, session=admin, checks=CHECKS, timeout=10)
    assert response.status_code != 403 or response.json()["error"] != "forbidden", response.text


def test_success_answers_match_their_schemas(fuzzed_agent: LiveAgent, nurse: requests.Session) -> None:
    """Random bodies rarely make a valid patient (plausible birth date, printable names): the
    success answers are checked here with real data, through the same schemathesis checks."""
    body = {"birth_name": "SCHÉMA", "used_name": "D'ARC", "first_names": ["Jeanne", "Marie-Thérèse"],
            "birth_date": "1931-11-02", "sex": "F", "identity_status": "VALI"}
    token = {"X-CSRF-Token": nurse.headers["X-CSRF-Token"]}
    created = schema["/api/v1/patients"]["POST"].Case(body=body, headers=token)
    reply = created.call_and_validate(base_url=fuzzed_agent.url, session=nurse, checks=CHECKS, timeout=10)
    assert reply.status_code == 201, reply.text
    patient_id = reply.json()["id"]
    for case in (
        schema["/api/v1/patients/{id}"]["GET"].Case(path_parameters={"id": patient_id}),
        schema["/api/v1/patients"]["GET"].Case(query={"limit": 5}),
        schema["/api/v1/dossiers"]["GET"].Case(),
        schema["/api/v1/session"]["GET"].Case(),
    ):
        answer = case.call_and_validate(base_url=fuzzed_agent.url, session=nurse, checks=CHECKS, timeout=10)
        assert answer.status_code == 200, answer.text
    assert reply.json()["display_name"] == "D'ARC Jeanne"


@anonymous_schema.exclude(method="GET", path="/api/v1/card/events").parametrize()
def test_api_fuzzed_anonymously(case: schemathesis.Case, fuzzed_agent: LiveAgent) -> None:
    case.call_and_validate(base_url=fuzzed_agent.url, checks=CHECKS, timeout=10)


# --- the document itself ------------------------------------------------------------------------

def served_routes(tmp_path: Path) -> set[tuple[str, str]]:
    """(method, path) of every route the agent's aiohttp application serves under /api/v1, plus
    /healthz and /metrics, read from the router itself."""
    agent = Agent(Config.model_validate({"storage": {"data_dir": str(tmp_path / "unused")}}))
    app = build_app(agent)
    routes = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith("/api/v1/") or path in ("/healthz", "/metrics"):
            routes.add((route.method.upper(), path))
    return routes


def test_served_document_is_the_built_one(fuzzed_agent: LiveAgent) -> None:
    reply = requests.get(f"{fuzzed_agent.url}{DOCUMENT}", timeout=10)
    assert reply.status_code == 200
    assert reply.json() == build_document(API, __version__)


def test_document_is_valid_openapi_and_lists_every_route(tmp_path: Path) -> None:
    with running_agent(tmp_path) as agent:
        reply = requests.get(f"{agent.url}{DOCUMENT}", timeout=10)
        assert reply.status_code == 200
        assert reply.headers["Content-Type"].startswith("application/json")
        document = reply.json()
        assert document["openapi"].startswith("3.")

        loaded = schemathesis.openapi.from_url(f"{agent.url}{DOCUMENT}")
        loaded.validate()  # against the OpenAPI meta-schema
        operations = [result.ok() for result in loaded.get_all_operations()]  # raises on an invalid operation
        assert operations

        documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item
                      if method in ("get", "post", "put", "patch", "delete")}
        served = served_routes(tmp_path)
        assert served, "no route found in the router"
        assert served - documented == set(), "served but not documented"
        assert documented - served == set(), "documented but not served"
        for needed in [("GET", "/healthz"), ("GET", "/metrics"), ("POST", "/api/v1/patients"), ("GET", "/api/v1/patients/{id}")]:
            assert needed in documented

        # And over HTTP: every documented operation answers, not with 404 "no such route" or 405.
        for method, path in sorted(documented):
            # A stream answers with its headers and goes on: its first bytes are enough here.
            answer = requests.request(method, f"{agent.url}{re.sub(r'{[^}]+}', 'x', path)}", timeout=10, stream=True)
            if not answer.headers.get("Content-Type", "").startswith("text/event-stream"):
                _ = answer.content  # read whole, for .json() below
            answer.close()
            assert answer.status_code != 405, (method, path)
            if answer.status_code == 404:
                assert answer.json()["error"] != "route_not_found", (method, path)
            assert str(answer.status_code) in document["paths"][path][method.lower()]["responses"], (method, path, answer.status_code)

        # Each operation declares its success response and who may call it.
        for path, item in document["paths"].items():
            for method, operation in item.items():
                assert operation["operationId"] and operation["summary"], (method, path)
                assert any(code.startswith("2") for code in operation["responses"]), (method, path)
                assert "503" in operation["responses"], (method, path)

