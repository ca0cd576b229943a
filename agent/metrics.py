"""Prometheus metrics of the agent, in a registry of its own (served at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, PlatformCollector, ProcessCollector
from sqlite_utils import Database

from agent.access import sessions
from agent.clock import now
from agent.store import Store, outbox


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
        self.forged_links = Counter("telecart_links_forged", "Outside links refused as never issued (malformed or a wrong signature), "
                                    "counted here rather than audited", ["page"], registry=r)
        self.sessions = Gauge("telecart_sessions_active", "Sessions not yet expired", registry=r)
        self.outbox = Gauge("telecart_outbox_pending", "Changes waiting to be sent to the regional server", registry=r)
        self.audit = Gauge("telecart_audit_records", "Records in the audit trail", registry=r)
        self.free = Gauge("telecart_store_free_bytes", "Free space on the data directory's disk", registry=r)
        self.call_members = Gauge("telecart_call_members", "People in the cart's call, the cart included", registry=r)
        # What each remote participant's browser measures of the cart's video (one series per participant).
        who = ["participant", "role"]
        self.call_fps = Gauge("telecart_call_video_fps", "Frames per second of the cart's video, as decoded by the participant", who, registry=r)
        self.call_width = Gauge("telecart_call_video_width", "Width of the cart's video as received", who, registry=r)
        self.call_height = Gauge("telecart_call_video_height", "Height of the cart's video as received", who, registry=r)
        self.call_bitrate = Gauge("telecart_call_video_bitrate_kbps", "Bitrate of the cart's video as received", who, registry=r)
        self.call_lost = Gauge("telecart_call_packets_lost", "RTP packets of the cart's video lost on the way", who, registry=r)
        self.call_rtt = Gauge("telecart_call_rtt_ms", "Round-trip time of the media path", who, registry=r)
        self.call_codec = Gauge("telecart_call_codec_info", "Codec and ICE candidate type of the media path (1 when in use)",
                                who + ["codec", "candidate"], registry=r)
        self._call_series: dict[str, tuple[str, ...]] = {}

    def observe_call(self, participant: str, role: str, stats: dict) -> None:
        labels = (participant, role)
        for gauge, key in ((self.call_fps, "fps"), (self.call_width, "width"), (self.call_height, "height"),
                           (self.call_bitrate, "bitrate_kbps"), (self.call_lost, "packets_lost"), (self.call_rtt, "rtt_ms")):
            if stats.get(key) is not None:
                gauge.labels(*labels).set(stats[key])
        codec = (participant, role, str(stats.get("codec", "")), str(stats.get("candidate", "")))
        previous = self._call_series.get(participant)
        if previous and previous != codec:
            self.call_codec.remove(*previous)
        self.call_codec.labels(*codec).set(1)
        self._call_series[participant] = codec

    def forget_call(self, participant: str, role: str) -> None:
        for gauge in (self.call_fps, self.call_width, self.call_height, self.call_bitrate, self.call_lost, self.call_rtt):
            try:
                gauge.remove(participant, role)
            except KeyError:
                pass
        codec = self._call_series.pop(participant, None)
        if codec:
            self.call_codec.remove(*codec)

    async def refresh(self, store: Store) -> None:
        """Gauges read from the store, refreshed when scraped."""
        active, pending, audit_records = await store.read(_store_figures)
        self.sessions.set(active)
        self.outbox.set(pending)
        self.audit.set(audit_records)
        self.free.set(store.free_bytes())
