"""The loopback FHIR server (tests/sync/fhir_server.py) does what the sync will rely on, over real
HTTP: a replayed transaction Bundle creates nothing twice, a stale If-Match gets 412, and in SMART
mode only a token obtained with a signed client assertion opens the API."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from tests.sync.fhir_server import ASSERTION_TYPE, FHIR_JSON, FhirServer, fhir_server

CART = "chariot-test-01"
SID = f"https://region.test/fhir/sid/telecart/{CART}"  # the cart's own identifier systems
HEADERS = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    with fhir_server(tmp_path_factory.mktemp("fhir")) as running:
        yield running


@pytest.fixture(scope="module")
def smart_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    with fhir_server(tmp_path_factory.mktemp("fhir-smart"), smart=True) as running:
        yield running


def dossier_bundle(patient_key: str, observation_key: str) -> dict[str, Any]:
    """What the outbox holds for one dossier: a Patient and a vital referring to it by urn:uuid,
    each created only if its cart-scoped identifier is not on the server yet. The urn:uuids are
    the outbox's own, the same on every retry."""
    patient_urn, observation_urn = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, patient_key)}", f"urn:uuid:{uuid.uuid4()}"
    patient_id = {"system": f"{SID}/patient", "value": patient_key}
    observation_id = {"system": f"{SID}/observation", "value": observation_key}
    patient = {"resourceType": "Patient", "identifier": [patient_id], "name": [{"family": "DUPONT", "given": ["Jeanne"]}],
               "gender": "female", "birthDate": "1931-04-02"}
    observation = {
        "resourceType": "Observation", "identifier": [observation_id], "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
        "subject": {"reference": patient_urn}, "effectiveDateTime": "2026-11-02T09:30:00+01:00",
        "valueQuantity": {"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"},
    }
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": patient_urn, "resource": patient,
         "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier={SID}/patient|{patient_key}"}},
        {"fullUrl": observation_urn, "resource": observation,
         "request": {"method": "POST", "url": "Observation", "ifNoneExist": f"identifier={SID}/observation|{observation_key}"}},
    ]}


def statuses(reply: requests.Response) -> list[str]:
    assert reply.status_code == 200, reply.text
    bundle = reply.json()
    assert bundle["type"] == "transaction-response"
    return [entry["response"]["status"].split()[0] for entry in bundle["entry"]]


def test_a_transaction_sent_three_times_creates_each_resource_once(server: FhirServer) -> None:
    key = uuid.uuid4().hex
    bundle = dossier_bundle(f"P-{key}", f"O-{key}")
    answers = [statuses(requests.post(server.base_url, json=bundle, headers=HEADERS, timeout=10)) for _ in range(3)]
    assert answers == [["201", "201"], ["200", "200"], ["200", "200"]]

    patients = server.search("Patient", identifier=f"{SID}/patient|P-{key}")
    observations = server.search("Observation", identifier=f"{SID}/observation|O-{key}")
    assert len(patients) == 1 and len(observations) == 1
    # the urn:uuid became a reference to the Patient the server made, and it reads back
    assert observations[0]["subject"]["reference"] == f"Patient/{patients[0]['id']}"
    assert server.read("Patient", patients[0]["id"])["identifier"] == [{"system": f"{SID}/patient", "value": f"P-{key}"}]
    assert server.count("Observation", subject=f"Patient/{patients[0]['id']}") == 1


def test_identifiers_keep_two_carts_apart(server: FhirServer) -> None:
    """The same local number on two carts names two patients: the system is per cart."""
    local = f"P-{uuid.uuid4().hex}"
    other_sid = "https://region.test/fhir/sid/telecart/chariot-test-02/patient"
    for system in (f"{SID}/patient", other_sid):
        reply = requests.post(server.url("Patient"), json={"resourceType": "Patient", "identifier": [{"system": system, "value": local}]},
                              headers={**HEADERS, "If-None-Exist": f"identifier={system}|{local}"}, timeout=10)
        assert reply.status_code == 201, reply.text
    assert server.count("Patient", identifier=local) == 2
    assert server.count("Patient", identifier=f"{SID}/patient|{local}") == 1


def test_conditional_create_answers_the_existing_resource_and_refuses_an_ambiguous_one(server: FhirServer) -> None:
    value = uuid.uuid4().hex
    patient = {"resourceType": "Patient", "identifier": [{"system": f"{SID}/patient", "value": value}]}
    condition = {**HEADERS, "If-None-Exist": f"identifier={SID}/patient|{value}"}
    first = requests.post(server.url("Patient"), json=patient, headers=condition, timeout=10)
    again = requests.post(server.url("Patient"), json=patient, headers=condition, timeout=10)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]

    requests.post(server.url("Patient"), json=patient, headers=HEADERS, timeout=10).raise_for_status()  # a duplicate made by hand
    ambiguous = requests.post(server.url("Patient"), json=patient, headers=condition, timeout=10)
    assert ambiguous.status_code == 412, ambiguous.text


def transaction(*entries: tuple[dict[str, Any], dict[str, str]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "transaction",
            "entry": [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": resource, "request": request} for resource, request in entries]}


def test_conditional_update_and_conditional_references(server: FhirServer) -> None:
    """A conditional PUT on the cart identifier creates, then replaces; a conditional reference
    (`Patient?identifier=…`) finds what the server already holds, but not what the same Bundle
    creates: sekmet resolves it before executing the entries (as LinuxForHealth does; the spec
    leaves the order open), and rolls the whole Bundle back. Inside one Bundle, refer by urn:uuid."""
    key = uuid.uuid4().hex
    found_patient = f"identifier={SID}/patient|{key}"
    patient = {"resourceType": "Patient", "identifier": [{"system": f"{SID}/patient", "value": key}]}
    vital = {"resourceType": "Observation", "identifier": [{"system": f"{SID}/observation", "value": key}], "status": "final",
             "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]}, "subject": {"reference": f"Patient?{found_patient}"}}
    both = transaction((patient, {"method": "POST", "url": "Patient", "ifNoneExist": found_patient}),
                       (vital, {"method": "POST", "url": "Observation", "ifNoneExist": f"identifier={SID}/observation|{key}"}))
    same_bundle = requests.post(server.base_url, json=both, headers=HEADERS, timeout=10)
    assert same_bundle.status_code == 404, same_bundle.text
    assert server.count("Patient", identifier=f"{SID}/patient|{key}") == 0  # rolled back whole

    patient_alone = transaction((patient, {"method": "POST", "url": "Patient", "ifNoneExist": found_patient}))
    assert statuses(requests.post(server.base_url, json=patient_alone, headers=HEADERS, timeout=10)) == ["201"]
    assert statuses(requests.post(server.base_url, json=both, headers=HEADERS, timeout=10)) == ["200", "201"]
    [patient_on_server] = server.search("Patient", identifier=f"{SID}/patient|{key}")
    [vital_on_server] = server.search("Observation", identifier=f"{SID}/observation|{key}")
    assert vital_on_server["subject"]["reference"] == f"Patient/{patient_on_server['id']}"

    encounter = {"resourceType": "Encounter", "identifier": [{"system": f"{SID}/dossier", "value": key}], "status": "in-progress",
                 "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "VR"}}
    upsert = {"method": "PUT", "url": f"Encounter?identifier={SID}/dossier|{key}"}
    assert statuses(requests.post(server.base_url, json=transaction((encounter, upsert)), headers=HEADERS, timeout=10)) == ["201"]
    finished = {**encounter, "status": "finished"}
    assert statuses(requests.post(server.base_url, json=transaction((finished, upsert)), headers=HEADERS, timeout=10)) == ["200"]
    [on_server] = server.search("Encounter", identifier=f"{SID}/dossier|{key}")
    assert (on_server["status"], on_server["meta"]["versionId"]) == ("finished", "2")


def test_an_update_with_a_stale_if_match_gets_412_and_changes_nothing(server: FhirServer) -> None:
    created = requests.post(server.url("Patient"), json={"resourceType": "Patient", "gender": "female"}, headers=HEADERS, timeout=10)
    assert created.status_code == 201 and created.headers["ETag"] == 'W/"1"'
    patient = created.json()
    url = server.url(f"Patient/{patient['id']}")

    updated = requests.put(url, json={**patient, "birthDate": "1931-04-02"}, headers={**HEADERS, "If-Match": 'W/"1"'}, timeout=10)
    assert updated.status_code == 200 and updated.headers["ETag"] == 'W/"2"'
    stale = requests.put(url, json={**patient, "birthDate": "1940-01-01"}, headers={**HEADERS, "If-Match": 'W/"1"'}, timeout=10)
    assert stale.status_code == 412, stale.text
    now = server.read("Patient", patient["id"])
    assert (now["meta"]["versionId"], now["birthDate"]) == ("2", "1931-04-02")


def assertion(client_id: str, token_url: str, key: ECKey | RSAKey, alg: str, jti: str | None = None) -> str:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": token_url, "exp": now + 240, "jti": jti or uuid.uuid4().hex}
    return jwt.encode({"alg": alg, "typ": "JWT", "kid": key.kid}, claims, key, algorithms=[alg])


def ask_token(token_url: str, client_assertion: str, scope: str = "system/*.cruds") -> requests.Response:
    return requests.post(token_url, timeout=10, data={"grant_type": "client_credentials", "scope": scope,
                                                      "client_assertion_type": ASSERTION_TYPE, "client_assertion": client_assertion})


def test_smart_backend_services_token_opens_the_api(smart_server: FhirServer) -> None:
    smart = smart_server.smart
    assert smart is not None and smart.key is not None
    bundle = dossier_bundle(f"P-{uuid.uuid4().hex}", f"O-{uuid.uuid4().hex}")
    refused = requests.post(smart_server.base_url, json=bundle, headers=HEADERS, timeout=10)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert requests.get(smart_server.url("Patient"), headers=HEADERS, timeout=10).status_code == 401
    assert requests.get(smart_server.url("metadata"), headers=HEADERS, timeout=10).status_code == 200  # discovery stays open

    # discovery, then a client assertion signed by the cart's key (ES384), as a cart would
    configuration = requests.get(smart.smart_configuration_url, timeout=10).json()
    assert configuration["token_endpoint"] == smart.token_url
    assert "private_key_jwt" in configuration["token_endpoint_auth_methods_supported"]
    signed = assertion(smart.client_id, configuration["token_endpoint"], smart.key, "ES384")
    granted = ask_token(smart.token_url, signed)
    assert granted.status_code == 200, granted.text
    token = granted.json()["access_token"]
    authorised = {**HEADERS, "Authorization": f"Bearer {token}"}
    assert statuses(requests.post(smart_server.base_url, json=bundle, headers=authorised, timeout=10)) == ["201", "201"]
    assert requests.get(smart_server.url("Patient"), headers=authorised, timeout=10).status_code == 200

    assert ask_token(smart.token_url, signed).status_code == 401  # the same jti again: a replay
    stranger = ECKey.generate_key("P-384", auto_kid=True)
    assert ask_token(smart.token_url, assertion(smart.client_id, smart.token_url, stranger, "ES384")).status_code == 401
    assert ask_token(smart.token_url, assertion("unknown-cart", smart.token_url, smart.key, "ES384")).status_code == 401

    read_only = ask_token(smart.token_url, assertion(smart.client_id, smart.token_url, smart.key, "ES384"), scope="system/*.rs")
    assert read_only.status_code == 200, read_only.text
    reader = {**HEADERS, "Authorization": f"Bearer {read_only.json()['access_token']}"}
    assert requests.get(smart_server.url("Patient"), headers=reader, timeout=10).status_code == 200
    forbidden = requests.post(smart_server.base_url, json=bundle, headers=reader, timeout=10)
    assert forbidden.status_code == 403
    assert smart_server.count("Patient") == 1  # the harness's own helpers need no assertion


def test_a_cart_key_made_by_the_test_is_registered_rs384(tmp_path: Path) -> None:
    """The cart makes its key at enrolment; the region registers the public half (its JWKS)."""
    cart_key = RSAKey.generate_key(2048, parameters={"alg": "RS384", "use": "sig"}, auto_kid=True)
    with fhir_server(tmp_path, smart=True, client_id="chariot-rs384", jwks=KeySet([cart_key]).as_dict(private=False)) as server:
        assert server.smart is not None and server.smart.key is None
        reply = ask_token(server.smart.token_url, assertion("chariot-rs384", server.smart.token_url, cart_key, "RS384"))
        assert reply.status_code == 200, reply.text
        authorised = {**HEADERS, "Authorization": f"Bearer {reply.json()['access_token']}"}
        found = requests.get(server.url("Patient"), headers=authorised, timeout=10)
        assert found.status_code == 200 and found.json()["resourceType"] == "Bundle"


def test_the_server_listens_on_loopback_only_and_leaves_nothing_behind(tmp_path: Path) -> None:
    with fhir_server(tmp_path) as server:
        assert server.proc is not None
        pid, pattern = server.proc.pid, f"sekmet.main:app_factory .*--port {server.port}( |$)"
        listening = [c.laddr for c in psutil.Process(pid).net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
        assert listening and all(address.ip == "127.0.0.1" for address in listening), listening
        assert (server.directory / "sekmet.db").exists()
        assert subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0

        # down and back on the same port, with what it held
        requests.post(server.url("Patient"), json={"resourceType": "Patient"}, headers=HEADERS, timeout=10).raise_for_status()
        server.stop()
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url("metadata"), timeout=2)
        server.start()
        assert server.count("Patient") == 1
        assert server.proc.pid != pid
        pid = server.proc.pid
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 1
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url("metadata"), timeout=2)
