"""What the sync's tests look at once the cart has synced, as a person would: the queue's state
and what was set aside (read as `telecart sync status` reads it), the resources on the server
(each cart identifier exactly once); and the short waits the tests give the worker."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.store.database import DATABASE_NAME
from tests.live import LiveAgent
from tests.loopback import eventually
from tests.sync.cart_dossiers import OTHER_TYPES, TYPES, Made
from tests.sync.fault_proxy import FaultProxy
from tests.sync.fhir_server import FhirServer


def queue_counts(data_dir: Path) -> dict[str, int]:
    """The outbox by state (pending, sent, conflict, refused, local), read as `telecart sync status` does."""
    with contextlib.closing(sqlite3.connect(data_dir / DATABASE_NAME, timeout=10)) as db:
        return dict(db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())


def problems(data_dir: Path) -> list[tuple[str, str, str | None]]:
    """(entity, state, last error) of each entry set aside for a person."""
    with contextlib.closing(sqlite3.connect(data_dir / DATABASE_NAME, timeout=10)) as db:
        return db.execute("SELECT entity, state, last_error FROM outbox WHERE state IN ('conflict', 'refused') ORDER BY id").fetchall()


def sync_status(agent: LiveAgent) -> str:
    """What `telecart sync status` prints on the cart."""
    return subprocess.run([sys.executable, "-m", "agent.cli", "sync", "status", "--data-dir", str(agent.data_dir),
                           "--config", str(agent.config)], capture_output=True, text=True, check=True).stdout


def on_server(server: FhirServer, kinds: tuple[str, ...] = TYPES) -> dict[str, Counter[str]]:
    """Per type, how many times the server holds each identifier value (the first: the cart's)."""
    held: dict[str, Counter[str]] = {}
    for kind in kinds:
        found = [r.get("identifier") for r in server.search(kind)]
        held[kind] = Counter((i[0] if isinstance(i, list) else i)["value"] for i in found if i)
    return held


def assert_exactly(server: FhirServer, made: Made, proxy: FaultProxy | None = None) -> None:
    """The server holds each resource the cart made exactly once, and nothing else."""
    said = proxy.describe() if proxy else ""
    held = on_server(server, TYPES + OTHER_TYPES)
    twice = {kind: [v for v, n in c.items() if n > 1] for kind, c in held.items() if any(n > 1 for n in c.values())}
    assert not twice, f"held more than once: {twice}; {said}"
    missing = {kind: len(made.ids[kind] - set(held[kind])) for kind in TYPES if made.ids[kind] - set(held[kind])}
    assert not missing, f"missing on the server: {missing}; {said}"
    extra = {kind: len(set(held[kind]) - made.ids[kind]) for kind in TYPES if set(held[kind]) - made.ids[kind]}
    assert not extra, f"on the server but not made by the cart: {extra}; {said}"
    assert {kind: server.count(kind) for kind in TYPES} == made.counts(), said


def wait_until(check: Callable[[], Any], timeout: float, what: str, proxy: FaultProxy) -> Any:
    """`eventually`, naming the proxy's seed and what it did by then when it fails."""
    try:
        return eventually(check, timeout=timeout, what=what)
    except AssertionError as failed:
        raise AssertionError(f"{failed}; {proxy.describe()}") from None


def drained(data_dir: Path) -> Callable[[], dict[str, int] | None]:
    def check() -> dict[str, int] | None:
        counts = queue_counts(data_dir)
        return counts if not counts.get("pending") else None
    return check


def sync_config(base_url: str, **more: Any) -> dict[str, Any]:
    """Short waits: the tests are about what arrives, not about how long the cart waits."""
    return {"fhir_base_url": base_url, "poll_seconds": 0.2, "pull_seconds": 0.5, "max_backoff_seconds": 0.05, "timeout_seconds": 2, **more}
