"""Readiness, as a monitoring system or systemd's health check reads it (the metrics: tests/system/test_metrics.py)."""

from __future__ import annotations

from tests.api.helpers import anonymous
from tests.live import LiveAgent


def test_healthz_says_ok(shared_agent: LiveAgent) -> None:
    reply = anonymous().get(f"{shared_agent.url}/healthz")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.json()["status"] == "ok"
