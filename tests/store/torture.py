"""Crash torture: SIGKILL the agent at random moments, hundreds of times, while clients create
patients and dossiers, upload documents and read (audited reads are writes too). After each
restart every write a client saw acknowledged is there, with its document's bytes intact; no file
is half-written or without its row; the audit chain verifies. Prints the counts as JSON.

    scripts/torture --kills 300          # the long run (about 1 s a kill)
    tests/store/test_torture.py          # the short run in CI
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlite_utils import Database

from agent.access.roles import Role
from agent.store.database import DATABASE_NAME
from agent.store.files import used_blobs
from tests.live import LiveAgent, free_port
from tests.store.test_crash import audit_verify

PDF_HEAD = b"%PDF-1.4\n"


@dataclass
class Acked:
    """What clients were told was saved."""

    patients: set[str] = field(default_factory=set)
    dossiers: set[str] = field(default_factory=set)
    documents: dict[str, str] = field(default_factory=dict)  # id -> sha256 of the bytes sent
    reads: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        return len(self.patients) + len(self.dossiers) + len(self.documents)


def small_pdf(n: int) -> bytes:
    from tests.documents import samples
    return samples.pdf((f"Compte rendu {n}", "Torture"))


def client_loop(agent: LiveAgent, base: requests.Session, acked: Acked, rng: random.Random, stop: threading.Event) -> None:
    session = requests.Session()
    session.headers.update(base.headers)
    session.cookies.update(base.cookies)
    api = f"{agent.url}/api/v1"
    n = 0
    while not stop.is_set():
        n += 1
        try:
            with acked.lock:
                patients, dossiers = list(acked.patients), list(acked.dossiers)
            action = rng.random()
            if action < 0.35 or not patients:
                reply = session.post(f"{api}/patients", timeout=10, json={
                    "birth_name": f"TORTURE{rng.randrange(10**9)}", "first_names": ["Paul"], "birth_date": "1931-11-02", "sex": "M",
                    "confirm_duplicate": True})
                if reply.status_code == 201:
                    with acked.lock:
                        acked.patients.add(reply.json()["id"])
            elif action < 0.55 or not dossiers:
                reply = session.post(f"{api}/dossiers", timeout=10, json={
                    "patient_id": rng.choice(patients), "consent": {"given": True}, "accompaniment": {"kind": "alone"},
                    "specialist": {"name": "PETIT", "specialty": "Cardiologie", "email": "c.petit@chu.example"}, "slot": {"now": True}, "confirm_overlap": True})
                if reply.status_code == 201:
                    with acked.lock:
                        acked.dossiers.add(reply.json()["id"])
            elif action < 0.8:
                data = small_pdf(rng.randrange(10**9))
                reply = session.post(f"{api}/dossiers/{rng.choice(dossiers)}/documents", timeout=10, files={"file": ("cr.pdf", data)})
                if reply.status_code == 201:
                    with acked.lock:
                        acked.documents[reply.json()["id"]] = hashlib.sha256(data).hexdigest()
            else:
                reply = session.get(f"{api}/patients/{rng.choice(patients)}", timeout=10)
                if reply.status_code == 200:
                    with acked.lock:
                        acked.reads += 1
        except requests.RequestException:
            return  # the agent died mid-request: that write was never acknowledged


def check(data_dir: Path, acked: Acked) -> int:
    """Lost acknowledged writes (must be 0); raises on a half-written or orphaned file."""
    db = sqlite3.connect(f"file:{data_dir / DATABASE_NAME}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        patients = {r[0] for r in db.execute("SELECT id FROM patients")}
        dossiers = {r[0] for r in db.execute("SELECT id FROM dossiers")}
        documents = dict(db.execute("SELECT id, blob FROM documents").fetchall())
        used = used_blobs(Database(db))
    finally:
        db.close()
    lost = len(acked.patients - patients) + len(acked.dossiers - dossiers)
    lost += sum(1 for doc_id, digest in acked.documents.items() if documents.get(doc_id) != digest)
    on_disk = {p.parent.name + p.name for p in (data_dir / "blobs").glob("??/*")} if (data_dir / "blobs").exists() else set()
    leftovers = list((data_dir / "blobs").glob("*/.tmp-*")) if (data_dir / "blobs").exists() else []
    assert not leftovers, f"half-written files left after the restart: {leftovers[:3]}"
    assert on_disk == used, f"files without a row: {sorted(on_disk - used)[:3]}; rows without a file: {sorted(used - on_disk)[:3]}"
    for digest in on_disk:
        path = data_dir / "blobs" / digest[:2] / digest[2:]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"file {digest} does not hold its bytes"
    return lost


def torture(kills: int, seed: int, data_dir: Path, clients: int = 3) -> dict[str, int]:
    rng = random.Random(seed)
    agent = LiveAgent(data_dir, free_port())
    account = agent.add_account(Role.NURSE)
    acked = Acked()
    agent.start()
    client = agent.login(account)
    lost = 0
    for _ in range(kills):
        stop = threading.Event()
        threads = [threading.Thread(target=client_loop, args=(agent, client, acked, random.Random(rng.random()), stop), daemon=True)
                   for _ in range(clients)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.05, 0.8))
        agent.stop(signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join(15)
        agent.start()  # the same data directory: migrations, key, orphans, leftovers
        lost += check(data_dir, acked)
    agent.stop()
    verified = audit_verify(data_dir)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    return {"kills": kills, "acknowledged_writes": acked.count(), "acknowledged_reads": acked.reads, "lost": lost}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=300)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="telecart-torture-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        figures = torture(args.kills, args.seed, data_dir) | {"seed": args.seed}
    print(json.dumps(figures))
    return 0 if figures["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
