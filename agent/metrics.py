"""Prometheus metrics of the agent, in a registry of its own (served at /metrics)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import PlatformCollector, ProcessCollector
from sqlite_utils import Database

from agent.access import sessions
from agent.clock import now
from agent.store import outbox

if TYPE_CHECKING:
    from agent.app import Agent


def _store_figures(db: Database) -> tuple[int, int, int]:
    audit_records = db.execute("SELECT coalesce(max(seq), 0) FROM audit").fetchone()[0]
    return sessions.count_active(db, now()), outbox.pending_count(db), audit_records


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        r = self.registry
        self.requests = Counter("telecart_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=r)
        self.latency = Histogram("telecart_http_request_duration_seconds", "Time to answer an HTTP request", ["route"],
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5), registry=r)
        self.logins = Counter("telecart_logins", "Login and unlock attempts by outcome", ["outcome"], registry=r)
        self.sessions = Gauge("telecart_sessions_active", "Sessions not yet expired", registry=r)
        self.outbox = Gauge("telecart_outbox_pending", "Changes waiting to be sent to the regional server", registry=r)
        self.audit = Gauge("telecart_audit_records", "Records in the audit trail", registry=r)
        self.free = Gauge("telecart_store_free_bytes", "Free space on the data directory's disk", registry=r)

    async def refresh(self, agent: Agent) -> None:
        """Gauges read from the store, refreshed when scraped."""
        active, pending, audit_records = await agent.store.read(_store_figures)
        self.sessions.set(active)
        self.outbox.set(pending)
        self.audit.set(audit_records)
        self.free.set(agent.store.free_bytes())
