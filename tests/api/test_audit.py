"""Every access to the cart is in the audit trail: who, what, which patient, outcome, from where."""

from __future__ import annotations

from agent.access.roles import Role
from tests.api.helpers import API, anonymous, audit_items, current_code, logged_in, patient, post_login
from tests.live import LiveAgent

LOOPBACK = "127.0.0.1"


def test_access_is_audited_with_actor_action_outcome_patient_and_address(shared_agent: LiveAgent) -> None:
    url = shared_agent.url
    account = shared_agent.add_account(Role.NURSE)
    assert post_login(shared_agent, account.login, "not-the-password", current_code(account)).status_code == 401
    nurse = logged_in(shared_agent, account)
    created = nurse.post(f"{url}{API}/patients", json=patient())
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    assert nurse.get(f"{url}{API}/patients/{pid}").status_code == 200
    assert nurse.post(f"{url}{API}/patients", json=patient(), headers={"X-CSRF-Token": ""}).status_code == 403

    admin = logged_in(shared_agent, shared_agent.add_account(Role.ADMIN))
    trail = list(reversed(audit_items(shared_agent, admin, actor=account.login)))  # oldest first

    assert [(r["action"], r["outcome"], r["patient_id"]) for r in trail] == [
        ("login", "failure", None),
        ("login", "success", None),
        ("patient.create", "success", pid),
        ("patient.read", "success", pid),
        ("access.csrf", "denied", None),
    ]
    for record in trail:
        assert record["actor"] == account.login
        assert record["role"] == "nurse"
        assert record["remote_addr"] == LOOPBACK
        assert record["at"]
    assert [r["seq"] for r in trail] == sorted(r["seq"] for r in trail)
    assert "POST /api/v1/patients" in trail[-1]["detail"]


def test_refusals_of_strangers_and_wrong_roles_are_audited(shared_agent: LiveAgent) -> None:
    url = shared_agent.url
    assert post_login(shared_agent, "ghost-user", "whatever-password", "123456").status_code == 401
    technician_account = shared_agent.add_account(Role.TECHNICIAN)
    technician = logged_in(shared_agent, technician_account)
    assert technician.get(f"{url}{API}/patients").status_code == 403
    assert anonymous().post(f"{url}{API}/session", json={}, headers={"Origin": "https://evil.example"}).status_code == 403

    admin = logged_in(shared_agent, shared_agent.add_account(Role.ADMIN))
    ghost = audit_items(shared_agent, admin, actor="ghost-user")
    assert [(r["action"], r["outcome"], r["remote_addr"]) for r in ghost] == [("login", "failure", LOOPBACK)]

    forbidden = [r for r in audit_items(shared_agent, admin, actor=technician_account.login) if r["action"] == "access.forbidden"]
    assert len(forbidden) == 1, forbidden
    assert forbidden[0]["outcome"] == "denied"
    assert forbidden[0]["role"] == "technician"
    assert forbidden[0]["remote_addr"] == LOOPBACK
    assert "/api/v1/patients" in forbidden[0]["detail"]


def test_audit_reading_is_audited(shared_agent: LiveAgent) -> None:
    admin_account = shared_agent.add_account(Role.ADMIN)
    admin = logged_in(shared_agent, admin_account)
    audit_items(shared_agent, admin, actor="someone-else")
    mine = audit_items(shared_agent, admin, actor=admin_account.login)
    reads = [r for r in mine if r["action"] == "audit.read"]
    assert reads and reads[0]["outcome"] == "success" and reads[0]["remote_addr"] == LOOPBACK
    assert "someone-else" in (reads[-1]["detail"] or "")


def test_requests_refused_for_their_origin_are_audited(shared_agent: LiveAgent) -> None:
    """The guard promises that refusals concerning access are audited: a forged cross-site write
    must leave a trace, like a missing CSRF token does."""
    url = shared_agent.url
    admin = logged_in(shared_agent, shared_agent.add_account(Role.ADMIN))
    baseline = audit_items(shared_agent, admin, limit=1)[0]["seq"]
    nurse = logged_in(shared_agent, shared_agent.add_account(Role.NURSE))
    evil = {"Origin": "https://evil.example"}
    assert nurse.post(f"{url}{API}/patients", json=patient(), headers=evil).status_code == 403
    assert anonymous().post(f"{url}{API}/session", json={"login": "x", "password": "y", "otp": "1"}, headers=evil).status_code == 403

    new = [r for r in audit_items(shared_agent, admin) if r["seq"] > baseline]
    denied = [r for r in new if r["outcome"] == "denied" and r["remote_addr"] == LOOPBACK]
    assert any("/api/v1/patients" in (r["detail"] or "") for r in denied), new
    assert any("/api/v1/session" in (r["detail"] or "") for r in denied), new
