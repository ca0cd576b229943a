"""What a round of the sync worker writes on the cart, and when (cloud_sync/worker.py): what became
of its entries is written together, once the server confirmed them, in one transaction rather than
one each; the versions the server confirmed meanwhile already decide the next entries' requests
(an update goes to its address with the new version, an unchanged resource is not resent); a round
cut short by a retry, or by the agent stopping, still writes what the server confirmed before, and
nothing after. Against sekmet on loopback, through the fault proxy that records each request."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from agent.config import SyncConfig
from agent.dossiers import dossier
from agent.dossiers.dossier import DossierState
from agent.store import Store, transaction
from agent.store.blobs import BlobStore
from agent.store.database import DATABASE_NAME, connect
from cloud_sync import worker as sync_worker
from tests.notify.servers import run_async
from tests.sync.cart_dossiers import NURSE, make_dossiers
from tests.sync.outcomes import assert_exactly, problems, sync_config
from tests.sync.rig import Rig

pytestmark = pytest.mark.slow


def one_round(rig: Rig, until: Callable[[], bool] | None = None, then: Callable[[], None] | None = None,
              **sync: Any) -> tuple[float | None, list[str]]:
    """One `drain` of the real SyncWorker on the cart's store: how long it says to wait, and the
    name of each store write it made. Once `until` holds (checked while the round runs), `then()`
    is done beside it, or without `then` the round is cancelled as the agent stopping does (the
    wait is then None)."""
    writes: list[str] = []

    async def run() -> float | None:
        store = Store(rig.data_dir)
        await store.open()
        written = store.write

        async def counted(fn: Callable[..., Any], *args: object, essential: bool = False) -> Any:
            writes.append(fn.__name__)
            return await written(fn, *args, essential=essential)

        store.write = counted  # type: ignore[method-assign]
        try:
            async with aiohttp.ClientSession() as http:
                worker = sync_worker.SyncWorker(store, BlobStore(rig.data_dir / "blobs"), SyncConfig(**sync_config(rig.proxy.base_url, **sync)), http)
                task = asyncio.get_running_loop().create_task(worker.drain(await worker._identifiers()))
                if until is not None:
                    while not until():
                        assert not task.done(), "the round ended before the moment looked for"
                        await asyncio.sleep(0.01)
                    if then is None:
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
                        return None
                    await asyncio.get_running_loop().run_in_executor(None, then)
                return await task
        finally:
            await store.close()

    return run_async(run()), writes


def drain_all(rig: Rig) -> None:
    """Rounds until nothing is pending (a retry's short wait included)."""
    while any(state == "pending" for _, _, state, _, _ in outbox(rig.data_dir)):
        one_round(rig)


def outbox(data_dir: Path) -> list[tuple[str, str, str, int, str | None]]:
    """(entity, operation, state, attempts, last error) of each entry, in order."""
    with contextlib.closing(sqlite3.connect(data_dir / DATABASE_NAME, timeout=10)) as db:
        return db.execute("SELECT entity, operation, state, attempts, last_error FROM outbox ORDER BY id").fetchall()


def kept_version(data_dir: Path, resource: str) -> str | None:
    with contextlib.closing(sqlite3.connect(data_dir / DATABASE_NAME, timeout=10)) as db:
        row = db.execute("SELECT etag FROM sync_versions WHERE resource LIKE ?", [f"{resource}|%"]).fetchone()
        return row[0] if row else None


def updates(recorded: list[bytes]) -> list[tuple[str, str | None]]:
    """(what, If-Match) of each recorded update of a resource at its own address."""
    found = []
    for raw in recorded:
        lines = raw.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        if method == "PUT":
            if_match = next((line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("if-match:")), None)
            found.append((path.rsplit("/", 2)[1], if_match))
    return found


def test_a_round_writes_its_outcomes_at_once_and_the_versions_confirmed_meanwhile_decide_the_next_requests(
        rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    made = make_dossiers(rig.data_dir, 1)
    (consultation,) = made.ids["Encounter"]
    db = connect(rig.data_dir / DATABASE_NAME)  # opened beforehand: a change while a request is held takes milliseconds

    def on_the_dossier(change: Callable[[Any], None]) -> None:
        with transaction(db):
            change(db)

    on_the_dossier(lambda db: dossier.transition(db, consultation, DossierState.IN_PROGRESS, NURSE))  # queued last
    monkeypatch.setattr(sync_worker, "SETTLE_SECONDS", 3600)  # however slow the machine: the round's end writes them
    rig.proxy.faults(script=("pass", "pass", "pass", "delay"))  # the resident, the consent, the dossier; the professional held
    rig.proxy.recorded = []

    # the nurse calls the consultation off while the round sends the professional (held 0.2-3 s):
    # the state change queued last is built, later in the round, from the rows as they are then
    try:
        wait, writes = one_round(rig, until=lambda: bool(rig.proxy.held_requests), timeout_seconds=10,
                                 then=lambda: on_the_dossier(lambda db: dossier.cancel(db, consultation, "Résident hospitalisé", NURSE)))
    finally:
        db.close()

    assert writes == ["settle_all"], "one transaction for the whole round, not one per entry"
    states = [(entity, operation, state) for entity, operation, state, _, _ in outbox(rig.data_dir)]
    assert states[:10] == [(e, o, "local" if e == "invitation" else "sent") for e, o, _ in states[:10]]
    assert states[9] == ("dossier", "state", "sent") and all(state == "pending" for _, _, state in states[10:])  # the cancellation's: next round
    # it updated what the dossier's entry had written earlier in the round, at the version the
    # server confirmed then, not yet written on the cart
    assert sorted(updates(rig.proxy.recorded)) == [("Appointment", 'W/"1"'), ("Encounter", 'W/"1"')], rig.proxy.describe()
    (on_server,) = rig.server.search("Encounter")
    assert on_server["status"] == "cancelled"
    assert kept_version(rig.data_dir, "Encounter") == f'W/"{on_server["meta"]["versionId"]}"' == 'W/"2"'

    drain_all(rig)  # the cancellation's own entries find it all on the server already: nothing more is sent
    assert len(updates(rig.proxy.recorded)) == 2 and rig.server.search("Encounter")[0]["meta"]["versionId"] == "2"
    assert problems(rig.data_dir) == []
    assert_exactly(rig.server, made, rig.proxy)


def test_a_round_cut_by_a_retry_writes_what_the_server_confirmed_before_it_and_nothing_after(rig: Rig) -> None:
    made = make_dossiers(rig.data_dir, 2)
    rig.proxy.faults(script=("pass", "pass", "busy"))  # the resident, their consent, then the dossier meets a 503 or a 429

    wait, writes = one_round(rig)

    assert wait is not None and wait > 0
    assert writes == ["retry_later", "settle_all"]
    first = outbox(rig.data_dir)[:5]
    assert [(entity, state, attempts) for entity, _, state, attempts, _ in first] == [
        ("patient", "sent", 0), ("consent", "sent", 0), ("dossier", "pending", 1), ("participant", "pending", 0), ("invitation", "pending", 0)]
    assert "serveur indisponible" in (first[2][4] or "")
    assert all(state == "pending" for _, _, state, _, _ in outbox(rig.data_dir)[3:])

    rig.proxy.clean()
    drain_all(rig)
    assert problems(rig.data_dir) == []
    assert_exactly(rig.server, made, rig.proxy)


def test_the_agent_stopping_mid_request_keeps_what_the_server_confirmed_before(rig: Rig) -> None:
    made = make_dossiers(rig.data_dir, 1)
    rig.proxy.faults(script=("pass", "pass", "pass", "hang"))  # the resident, the consent, the dossier; the professional hangs

    wait, writes = one_round(rig, until=lambda: rig.proxy.stats["hang"] == 1)

    assert wait is None and writes == ["settle_all"]
    assert [(entity, state) for entity, _, state, _, _ in outbox(rig.data_dir)][:4] == [
        ("patient", "sent"), ("consent", "sent"), ("dossier", "sent"), ("participant", "pending")]
    assert kept_version(rig.data_dir, "Encounter") == 'W/"1"'  # and the versions confirmed: the next round updates at them

    rig.proxy.clean()
    drain_all(rig)
    assert problems(rig.data_dir) == []
    assert_exactly(rig.server, made, rig.proxy)
