"""`telecart audit verify`: exit 0 on an intact trail, non-zero naming the first bad record."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from agent import demo
from agent.config import Config
from agent.links.invitation import settings_from
from agent.store.database import DATABASE_NAME, connect
from tests.cli.cli import telecart


def seeded(data_dir: Path) -> int:
    """A data directory filled by the agent's own code (demo accounts, patients, dossiers: all
    audited); returns the number of audit records."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = connect(data_dir / DATABASE_NAME)
    try:
        assert demo.seed(db, settings_from(Config()))
        return db.execute("SELECT count(*) FROM audit").fetchone()[0]
    finally:
        db.close()


def tamper(data_dir: Path, *statements: str) -> None:
    conn = sqlite3.connect(data_dir / DATABASE_NAME)
    try:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("DROP TRIGGER audit_no_delete")
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def verify(data_dir: Path):
    return telecart("audit", "verify", "--data-dir", data_dir)


def test_intact_trail_verifies(tmp_path: Path) -> None:
    records = seeded(tmp_path)
    assert records >= 10
    done = verify(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK" in done.stdout and f"{records} records" in done.stdout


def test_empty_data_directory_verifies(tmp_path: Path) -> None:
    done = verify(tmp_path / "new")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 records" in done.stdout


def test_altered_record_is_named(tmp_path: Path) -> None:
    records = seeded(tmp_path)
    tamper(tmp_path, "UPDATE audit SET detail = 'rien à signaler' WHERE seq = 7")
    done = verify(tmp_path)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout
    assert re.search(r"\brecord 7\b", done.stdout), done.stdout
    assert "6 records verified" in done.stdout
    assert records > 7


def test_altered_actor_of_the_first_record_is_named(tmp_path: Path) -> None:
    seeded(tmp_path)
    tamper(tmp_path, "UPDATE audit SET actor = 'personne' WHERE seq = 1")
    done = verify(tmp_path)
    assert done.returncode != 0
    assert re.search(r"\brecord 1\b", done.stdout), done.stdout


def test_removed_record_is_named(tmp_path: Path) -> None:
    seeded(tmp_path)
    tamper(tmp_path, "DELETE FROM audit WHERE seq = 4")
    done = verify(tmp_path)
    assert done.returncode != 0
    assert re.search(r"\brecord 4\b", done.stdout), done.stdout
    assert "missing" in done.stdout


def test_trail_of_a_used_agent_verifies_and_tampering_is_found(tmp_path: Path) -> None:
    """The same on records written by a running agent: logins, reads, creations, refusals."""
    from tests.live import running_agent

    with running_agent(tmp_path) as agent:
        nurse = agent.add_account()
        client = agent.login(nurse)
        created = client.post(f"{agent.url}/api/v1/patients", json={
            "birth_name": "VERIFY", "first_names": ["Anne"], "birth_date": "1940-01-01", "sex": "F"})
        assert created.status_code == 201, created.text
        assert client.get(f"{agent.url}/api/v1/patients/{created.json()['id']}").status_code == 200
        assert client.get(f"{agent.url}/api/v1/audit").status_code == 403  # refused, and audited
        data_dir = agent.data_dir
        running = verify(data_dir)  # while the agent runs: WAL lets both work
        assert running.returncode == 0, running.stdout + running.stderr
    done = verify(data_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    count = int(re.search(r"(\d+) records", done.stdout).group(1))
    assert count >= 5

    tamper(data_dir, f"UPDATE audit SET remote_addr = '10.6.6.6' WHERE seq = {count}")
    broken = verify(data_dir)
    assert broken.returncode != 0
    assert re.search(rf"\brecord {count}\b", broken.stdout), broken.stdout
