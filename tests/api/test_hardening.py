"""What the review of the foundation asked for: DNS rebinding, null origins, one audit record per
lock, per-patient records for lists, no records for made-up cookies."""

from __future__ import annotations

import requests

from agent.access.roles import Role
from tests.api.helpers import API, anonymous, assert_error, audit_items, cookie_header, logged_in, patient
from tests.live import LiveAgent


def test_a_foreign_host_header_is_refused(shared_agent: LiveAgent) -> None:
    """A DNS-rebinding page reaches us under its own name: nothing answers it, not even login."""
    reply = anonymous().post(f"{shared_agent.url}{API}/session", headers={"Host": "evil.example"},
                             json={"login": "x", "password": "y", "otp": "123456"})
    assert_error(reply, 421, "host_refused")
    assert_error(anonymous().get(f"{shared_agent.url}/metrics", headers={"Host": f"evil.example:{shared_agent.port}"}),
                 421, "host_refused")
    assert anonymous().get(f"http://localhost:{shared_agent.port}/healthz").status_code == 200


def test_configured_names_are_answered(agent_with) -> None:  # type: ignore[no-untyped-def]
    agent = agent_with(server={"allowed_hosts": ["chariot-3.local"]})
    assert anonymous().get(f"{agent.url}/healthz", headers={"Host": f"chariot-3.local:{agent.port}"}).status_code == 200
    assert anonymous().get(f"{agent.url}/healthz", headers={"Host": "chariot-3.local"}).status_code == 200
    assert_error(anonymous().get(f"{agent.url}/healthz", headers={"Host": "chariot-4.local"}), 421, "host_refused")


def test_a_null_origin_cannot_change_anything(shared_agent: LiveAgent) -> None:
    nurse = shared_agent.add_account()
    client = logged_in(shared_agent, nurse)
    reply = client.post(f"{shared_agent.url}{API}/patients", json=patient(), headers={"Origin": "null"})
    assert_error(reply, 403, "origin_refused")


def test_a_lock_is_recorded_once_with_its_reason(shared_agent: LiveAgent) -> None:
    nurse = shared_agent.add_account()
    client = logged_in(shared_agent, nurse)
    assert client.post(f"{shared_agent.url}{API}/session/lock", params={"reason": "idle"}).status_code == 204
    assert client.post(f"{shared_agent.url}{API}/session/lock").status_code == 204  # already locked
    admin = logged_in(shared_agent, shared_agent.add_account(Role.ADMIN))
    locks = [r for r in audit_items(shared_agent, admin, actor=nurse.login) if r["action"] == "session.lock"]
    assert [r["detail"] for r in locks] == ["inactivité"]


def test_each_patient_shown_in_a_list_is_an_audited_access(shared_agent: LiveAgent) -> None:
    nurse = shared_agent.add_account()
    client = logged_in(shared_agent, nurse)
    for _ in range(3):
        assert client.post(f"{shared_agent.url}{API}/patients", json=patient()).status_code == 201
    shown = client.get(f"{shared_agent.url}{API}/patients", params={"limit": 3}).json()["items"]
    admin = logged_in(shared_agent, shared_agent.add_account(Role.ADMIN))
    listed = [r["patient_id"] for r in audit_items(shared_agent, admin, actor=nurse.login) if r["action"] == "patient.list"]
    assert sorted(listed) == sorted(p["id"] for p in shown)
    # And the admin finds that access when looking at one of those patients.
    assert any(r["action"] == "patient.list" for r in audit_items(shared_agent, admin, patient_id=shown[0]["id"]))


def test_reading_an_unknown_patient_is_audited_as_a_failure(shared_agent: LiveAgent) -> None:
    nurse = shared_agent.add_account()
    client = logged_in(shared_agent, nurse)
    assert_error(client.get(f"{shared_agent.url}{API}/patients/no-such-id"), 404, "not_found")
    admin = logged_in(shared_agent, shared_agent.add_account(Role.ADMIN))
    reads = audit_items(shared_agent, admin, patient_id="no-such-id")
    assert [(r["action"], r["outcome"], r["actor"]) for r in reads] == [("patient.read", "failure", nurse.login)]


def test_made_up_cookies_leave_no_record(shared_agent: LiveAgent) -> None:
    """Otherwise anyone could fill the cart's disk with audit records."""
    admin = logged_in(shared_agent, shared_agent.add_account(Role.ADMIN))
    before = audit_items(shared_agent, admin, limit=1)[0]["seq"]
    for number in range(20):
        reply = requests.get(f"{shared_agent.url}{API}/patients", headers=cookie_header(f"made-up-{number}"))
        assert_error(reply, 401, "session_expired")
    after = audit_items(shared_agent, admin, limit=2)
    assert after[1]["seq"] == before  # only the admin's own reading of the trail since
