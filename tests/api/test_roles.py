"""Least privilege: what each role may read."""

from __future__ import annotations

import pytest

from agent.access.roles import Role
from tests.api.helpers import API, assert_error, audit_items, logged_in, patient
from tests.live import LiveAgent


@pytest.mark.parametrize(("role", "path"), [
    (Role.TECHNICIAN, "/patients"),
    (Role.TECHNICIAN, "/dossiers"),
    (Role.TECHNICIAN, "/audit"),
    (Role.NURSE, "/audit"),
    (Role.DOCTOR, "/audit"),
    (Role.ADMIN, "/patients"),
    (Role.ADMIN, "/dossiers"),
], ids=lambda v: v.value if isinstance(v, Role) else v.strip("/"))
def test_role_without_the_right_is_refused(shared_agent: LiveAgent, role: Role, path: str) -> None:
    client = logged_in(shared_agent, shared_agent.add_account(role))
    body = assert_error(client.get(f"{shared_agent.url}{API}{path}"), 403, "forbidden")
    assert "rôle" in body["message"]
    assert "items" not in body


def test_technician_cannot_create_a_patient(shared_agent: LiveAgent) -> None:
    client = logged_in(shared_agent, shared_agent.add_account(Role.TECHNICIAN))
    assert_error(client.post(f"{shared_agent.url}{API}/patients", json=patient()), 403, "forbidden")


def test_a_technician_sets_no_staff_signature(shared_agent: LiveAgent) -> None:
    """A signature is stamped on prescriptions and reports: only those who write health data have one."""
    from tests.documents import samples

    client = logged_in(shared_agent, shared_agent.add_account(Role.TECHNICIAN))
    refused = client.put(f"{shared_agent.url}{API}/me/signature", files={"file": ("s.jpg", samples.signature_image())})
    assert_error(refused, 403, "forbidden")


@pytest.mark.parametrize("role", [Role.NURSE, Role.DOCTOR], ids=lambda r: r.value)
def test_carers_read_patients_and_dossiers(shared_agent: LiveAgent, role: Role) -> None:
    client = logged_in(shared_agent, shared_agent.add_account(role))
    for path in ("/patients", "/dossiers"):
        reply = client.get(f"{shared_agent.url}{API}{path}")
        assert reply.status_code == 200, reply.text
        assert "items" in reply.json()


def test_admin_reads_and_filters_the_audit_trail(shared_agent: LiveAgent) -> None:
    nurse_account = shared_agent.add_account(Role.NURSE)
    nurse = logged_in(shared_agent, nurse_account)
    doctor_account = shared_agent.add_account(Role.DOCTOR)
    other = logged_in(shared_agent, doctor_account)
    first = nurse.post(f"{shared_agent.url}{API}/patients", json=patient()).json()["id"]
    second = other.post(f"{shared_agent.url}{API}/patients", json=patient()).json()["id"]
    assert nurse.get(f"{shared_agent.url}{API}/patients/{second}").status_code == 200
    admin = logged_in(shared_agent, shared_agent.add_account(Role.ADMIN))

    everything = audit_items(shared_agent, admin)
    assert {nurse_account.login, "cli"} < {item["actor"] for item in everything}

    by_actor = audit_items(shared_agent, admin, actor=nurse_account.login)
    assert by_actor and {item["actor"] for item in by_actor} == {nurse_account.login}
    assert {(item["action"], item["patient_id"]) for item in by_actor} >= {("patient.create", first), ("patient.read", second)}

    by_patient = audit_items(shared_agent, admin, patient_id=second)
    assert by_patient and {item["patient_id"] for item in by_patient} == {second}
    assert [(item["actor"], item["action"]) for item in reversed(by_patient) if item["action"] != "audit.read"] == [
        (doctor_account.login, "patient.create"),
        (nurse_account.login, "patient.read"),
    ]
    # Reading a patient's trail is itself recorded under that patient (seen by the next reading).
    again = audit_items(shared_agent, admin, patient_id=second)
    assert [item["action"] for item in again if item["seq"] > by_patient[0]["seq"]] == ["audit.read"]
    assert again[0]["role"] == "admin"
