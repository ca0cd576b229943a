"""/metrics in the Prometheus text format, as a Prometheus server would scrape it: what it counts,
that the process figures are the agent's own, and that no patient is ever named in it."""

from __future__ import annotations

import os

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from agent.access.roles import Role
from tests.api.helpers import API, anonymous, current_code, logged_in, patient, post_login
from tests.live import LiveAgent


def scrape(agent: LiveAgent) -> dict[str, object]:
    reply = requests.get(f"{agent.url}/metrics", timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"].startswith("text/plain"), reply.headers
    return {family.name: family for family in text_string_to_metric_families(reply.text)}


def value(family: object, **labels: str) -> float:
    samples = [s for s in family.samples if all(s.labels.get(k) == v for k, v in labels.items())]  # type: ignore[attr-defined]
    assert samples, f"no sample with {labels} in {family}"
    return sum(s.value for s in samples)


def started_at(pid: int) -> float:
    """When a process started, in epoch seconds, as the kernel counts it (process_start_time_seconds)."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        ticks = float(stat.read().split(b")")[-1].split()[19])
    with open("/proc/stat") as kernel:
        boot = next(float(line.split()[1]) for line in kernel if line.startswith("btime "))
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def test_metrics_are_prometheus_text(live_agent: LiveAgent) -> None:
    before = scrape(live_agent)
    client = live_agent.login(live_agent.add_account())
    made = client.post(f"{live_agent.url}/api/v1/patients", json={
        "birth_name": "METRIQUE", "first_names": ["Paul"], "birth_date": "1944-04-04", "sex": "M"})
    assert made.status_code == 201, made.text
    assert client.get(f"{live_agent.url}/api/v1/patients/{made.json()['id']}").status_code == 200

    families = scrape(live_agent)
    for name in ("telecart_http_requests", "telecart_sessions_active", "telecart_audit_records",
                 "process_resident_memory_bytes"):
        assert name in families, f"{name} missing; found {sorted(families)}"

    requests_family = families["telecart_http_requests"]
    assert requests_family.type == "counter"
    assert value(requests_family, method="POST", route="/api/v1/patients", status="201") == 1
    assert value(requests_family, method="GET", route="/api/v1/patients/{id}", status="200") == 1
    assert value(requests_family, method="GET", route="/metrics", status="200") >= 1
    assert all(set(s.labels) == {"method", "route", "status"} for s in requests_family.samples
               if s.name == "telecart_http_requests_total")

    assert families["telecart_sessions_active"].type == "gauge"
    assert value(families["telecart_sessions_active"]) == 1
    assert value(before["telecart_sessions_active"]) == 0

    # login, account creation, patient creation, patient read: all in the audit trail.
    assert families["telecart_audit_records"].type == "gauge"
    audited = value(families["telecart_audit_records"])
    assert audited - value(before["telecart_audit_records"]) >= 3
    admin = live_agent.login(live_agent.add_account(Role.ADMIN))
    trail = admin.get(f"{live_agent.url}/api/v1/audit", params={"limit": 500})
    assert trail.status_code == 200
    # The listing shows the records before it; reading the trail is itself audited (+1).
    assert value(scrape(live_agent)["telecart_audit_records"]) == max(r["seq"] for r in trail.json()["items"]) + 1

    rss = value(families["process_resident_memory_bytes"])
    assert 5 * 2**20 < rss < 2**30, rss
    with open(f"/proc/{live_agent.proc.pid}/status") as status:  # type: ignore[union-attr]
        vm_rss_kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    assert abs(rss - vm_rss_kib * 1024) < 0.5 * rss
    # The process figures are the agent's own process, not the test's (nor another one's).
    started = value(families["process_start_time_seconds"])
    assert started == pytest.approx(started_at(live_agent.proc.pid), abs=0.015)  # type: ignore[union-attr]
    assert started != pytest.approx(started_at(os.getpid()), abs=0.015)

    assert "telecart_outbox_pending" in families and value(families["telecart_outbox_pending"]) == 1


def _samples(agent: LiveAgent) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    reply = anonymous().get(f"{agent.url}/metrics")
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"].startswith("text/plain"), reply.headers
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_count_requests_and_logins(shared_agent: LiveAgent) -> None:
    account = shared_agent.add_account()
    before = _samples(shared_agent)
    assert post_login(shared_agent, account.login, "not-the-password", current_code(account)).status_code == 401
    assert post_login(shared_agent, account.login, account.password, account.code()).status_code == 201
    text = anonymous().get(f"{shared_agent.url}/metrics").text
    assert "telecart_http_requests_total" in text
    assert 'telecart_logins_total{outcome="success"}' in text
    after = _samples(shared_agent)

    assert _value(after, "telecart_logins_total", outcome="success") == _value(before, "telecart_logins_total", outcome="success") + 1
    assert (_value(after, "telecart_logins_total", outcome="bad_credentials")
            == _value(before, "telecart_logins_total", outcome="bad_credentials") + 1)
    posted = {"method": "POST", "route": "/api/v1/session"}
    assert _value(after, "telecart_http_requests_total", status="201", **posted) == _value(before, "telecart_http_requests_total", status="201", **posted) + 1
    assert _value(after, "telecart_http_requests_total", status="401", **posted) == _value(before, "telecart_http_requests_total", status="401", **posted) + 1
    assert _value(after, "telecart_sessions_active") >= 1


def test_metrics_never_name_a_patient(shared_agent: LiveAgent) -> None:
    """Routes are counted by their template, so no patient identifier leaks into monitoring."""
    nurse = logged_in(shared_agent, shared_agent.add_account())
    body = patient()
    pid = nurse.post(f"{shared_agent.url}{API}/patients", json=body).json()["id"]
    assert nurse.get(f"{shared_agent.url}{API}/patients/{pid}").status_code == 200
    text = anonymous().get(f"{shared_agent.url}/metrics").text
    assert 'route="/api/v1/patients/{id}"' in text
    assert pid not in text and body["birth_name"] not in text
