"""Crash safety: an agent killed with SIGKILL in the middle of a stream of writes loses no
acknowledged write, leaves no half-done change (patient without its outbox entry or audit record),
and its audit chain still verifies."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from agent.store.database import DATABASE_NAME
from tests.live import LiveAgent

WRITERS = 2


class Stream:
    """Threads that create patients as fast as the agent answers, recording what was acknowledged."""

    def __init__(self, agent: LiveAgent, client: requests.Session, tag: str) -> None:
        self.agent, self.client, self.tag = agent, client, tag
        self.acked: dict[str, str] = {}  # birth name -> id, for every 201
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.counter = 0
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(WRITERS)]

    def _next_name(self) -> str:
        with self.lock:
            self.counter += 1
            return f"CRASH{self.tag}X{self.counter:06d}"

    def _run(self) -> None:
        # One HTTP connection per thread (requests.Session is not shared between threads).
        session = requests.Session()
        session.headers.update(self.client.headers)
        session.cookies.update(self.client.cookies)
        while True:
            name = self._next_name()
            try:
                reply = session.post(f"{self.agent.url}/api/v1/patients", timeout=10, json={
                    "birth_name": name, "first_names": ["Marcel"], "birth_date": "1931-11-02", "sex": "M"})
            except requests.RequestException:
                return  # the agent died: this write was never acknowledged
            if reply.status_code == 201:
                with self.lock:
                    self.acked[name] = reply.json()["id"]
            else:
                with self.lock:
                    self.errors.append(f"{reply.status_code} {reply.text[:200]}")
                return

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def join(self) -> None:
        for t in self.threads:
            t.join(15)
            assert not t.is_alive(), "a writer thread is stuck"


def kill_during_stream(agent: LiveAgent, client: requests.Session, tag: str, seconds: float) -> dict[str, str]:
    stream = Stream(agent, client, tag)
    stream.start()
    time.sleep(seconds)
    assert stream.acked, f"no write acknowledged in {seconds}s: {stream.errors}"
    assert all(t.is_alive() for t in stream.threads), f"the stream stopped before the kill: {stream.errors}"
    assert agent.stop(signal.SIGKILL) == -signal.SIGKILL
    stream.join()
    assert stream.errors == [], stream.errors
    return dict(stream.acked)


def check_store(data_dir: Path, acked: dict[str, str]) -> None:
    conn = sqlite3.connect(f"file:{data_dir / DATABASE_NAME}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        patients = dict(conn.execute("SELECT birth_name, id FROM patients").fetchall())
        missing = {name: pid for name, pid in acked.items() if patients.get(name) != pid}
        assert not missing, f"{len(missing)} acknowledged patients lost after SIGKILL, e.g. {list(missing.items())[:3]}"
        # Every patient that exists (acknowledged or caught by the kill after COMMIT) has exactly one
        # outbox entry and one creation record: the three were written in one transaction.
        outbox = dict(conn.execute(
            "SELECT entity_id, count(*) FROM outbox WHERE entity = 'patient' AND operation = 'create' AND state = 'pending' "
            "GROUP BY entity_id").fetchall())
        created = dict(conn.execute(
            "SELECT patient_id, count(*) FROM audit WHERE action = 'patient.create' GROUP BY patient_id").fetchall())
        ids = set(patients.values())
        assert {pid: outbox.get(pid) for pid in ids if outbox.get(pid) != 1} == {}
        assert set(outbox) == ids, "outbox entries without their patient"
        assert {pid: created.get(pid) for pid in ids if created.get(pid) != 1} == {}
        assert set(created) == ids, "creation records without their patient"
    finally:
        conn.close()


def listed_ids(agent: LiveAgent, client: requests.Session) -> set[str]:
    ids: set[str] = set()
    offset = 0
    while True:
        reply = client.get(f"{agent.url}/api/v1/patients", params={"limit": 500, "offset": offset}, timeout=10)
        assert reply.status_code == 200, reply.text
        page = reply.json()
        ids |= {p["id"] for p in page["items"]}
        offset += 500
        if offset >= page["total"]:
            return ids


def audit_verify(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.cli", "audit", "verify", "--data-dir", str(data_dir)],
                          check=False, capture_output=True, text=True, timeout=60)


def test_sigkill_during_writes_loses_no_acknowledged_write(live_agent: LiveAgent) -> None:
    client = live_agent.login(live_agent.add_account())
    acked: dict[str, str] = {}

    for round_number, seconds in enumerate((2.0, 1.3), start=1):
        acked |= kill_during_stream(live_agent, client, str(round_number), seconds)
        live_agent.start()  # same data directory, same port
        check_store(live_agent.data_dir, acked)
        # The session opened before the crashes is still valid: sessions are in the database too.
        assert listed_ids(live_agent, client) >= set(acked.values())
        verified = audit_verify(live_agent.data_dir)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "chain intact" in verified.stdout

    assert len(acked) > 20, f"only {len(acked)} writes were acknowledged: the stream was not busy"
    assert live_agent.stop() == 0
    verified = audit_verify(live_agent.data_dir)
    assert verified.returncode == 0, verified.stdout + verified.stderr
