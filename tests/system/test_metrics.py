"""/metrics in the Prometheus text format, as a Prometheus server would scrape it."""

from __future__ import annotations

import os

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from agent.access.roles import Role
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
