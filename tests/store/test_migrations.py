"""Schema migrations: a fresh database reaches the newest version in WAL mode, reopening changes
nothing, and a database written by a newer agent is refused."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import types
from pathlib import Path

import pytest
from sqlite_utils import Database

from agent.store import migrations
from agent.store.database import DATABASE_NAME, connect
from tests.live import LiveAgent, free_port

MIGRATIONS_DIR = Path(migrations.__file__).parent
TABLES = {"meta", "users", "login_failures", "sessions", "audit", "outbox", "patients", "dossiers"}


def newest_on_disk() -> int:
    """The highest NNNN among the mNNNN_*.py files, counted from the file names themselves."""
    numbers = [int(m.group(1)) for p in MIGRATIONS_DIR.glob("m*.py") if (m := re.match(r"^m(\d{4})_\w+\.py$", p.name))]
    assert numbers, f"no migration files in {MIGRATIONS_DIR}"
    return max(numbers)


def schema_of(path: Path) -> list[tuple[str, str, str | None]]:
    raw = sqlite3.connect(path)
    try:
        return sorted(raw.execute("SELECT type, name, sql FROM sqlite_master").fetchall())
    finally:
        raw.close()


def user_version(path: Path) -> int:
    raw = sqlite3.connect(path)
    try:
        return raw.execute("PRAGMA user_version").fetchone()[0]
    finally:
        raw.close()


def test_fresh_database_reaches_newest_version_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_NAME
    db = connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == newest_on_disk()
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: a committed write survives a power cut
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert TABLES <= set(db.table_names())
        triggers = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert {"audit_no_update", "audit_no_delete"} <= triggers
    finally:
        db.close()
    # WAL is a property of the file, seen by any other connection too.
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()
    assert user_version(path) == newest_on_disk()


def test_reopening_runs_no_migration_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_NAME
    db = connect(path)
    db["meta"].insert({"key": "canary", "value": "still here"})
    db.close()
    before = schema_of(path)

    # migrate() on an up-to-date database issues no statement that changes anything.
    statements: list[str] = []
    raw = sqlite3.connect(path)
    plain = Database(raw)
    raw.set_trace_callback(statements.append)
    assert migrations.migrate(plain) == newest_on_disk()
    raw.close()
    changing = [s for s in statements if not re.match(r"^\s*(SELECT|PRAGMA user_version\s*$)", s, re.IGNORECASE)]
    assert changing == [], f"migrate() on an up-to-date database ran {changing}"

    # And a full reopen keeps the schema, the version and the data as they were.
    db = connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == newest_on_disk()
        assert db.execute("SELECT value FROM meta WHERE key = 'canary'").fetchone()[0] == "still here"
    finally:
        db.close()
    assert schema_of(path) == before


def _future_database(tmp_path: Path) -> tuple[Path, int]:
    path = tmp_path / DATABASE_NAME
    connect(path).close()
    future = newest_on_disk() + 1
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {future}")
    raw.commit()
    raw.close()
    return path, future


def test_an_upgrade_that_fails_leaves_the_database_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pending migrations run together: the last one failing undoes the ones before it too (a
    power cut during an upgrade likewise), and the agent starts again on the version it had."""
    path = tmp_path / "older.db"
    real = migrations.available()
    older = len(real) - 3
    db = Database(sqlite3.connect(path))
    db.conn.execute("PRAGMA journal_mode=WAL")
    monkeypatch.setattr(migrations, "available", lambda: real[:older])
    assert migrations.migrate(db) == older
    before = schema_of(path)

    def half_done(db: Database) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("the upgrade stops here")
    failing = types.ModuleType("failing_migration")
    failing.up = half_done  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "failing_migration", failing)
    monkeypatch.setattr(migrations, "available", lambda: [*real, (len(real) + 1, "failing_migration")])
    with pytest.raises(RuntimeError, match="the upgrade stops here"):
        migrations.migrate(db)
    db.close()
    assert user_version(path) == older
    assert schema_of(path) == before


def test_database_from_a_newer_agent_is_refused(tmp_path: Path) -> None:
    path, future = _future_database(tmp_path)
    before = schema_of(path)
    with pytest.raises(RuntimeError) as refused:
        connect(path)
    message = str(refused.value)
    assert str(future) in message and str(newest_on_disk()) in message, message
    assert "newer" in message, message
    # Refusing changes nothing: the newer agent can still open its own database.
    assert user_version(path) == future
    assert schema_of(path) == before


def test_agent_refuses_to_start_on_a_newer_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    _, future = _future_database(data_dir)
    agent = LiveAgent(data_dir, free_port())
    with pytest.raises(RuntimeError, match="agent exited"):
        agent.start(timeout=20)
    assert agent.proc is not None and agent.proc.returncode != 0
    assert f"database schema version {future} is newer than this agent knows" in agent.log()
    assert user_version(data_dir / DATABASE_NAME) == future


def test_cli_refuses_a_newer_database_with_a_plain_error(tmp_path: Path) -> None:
    """An operator running a command on a database from a newer agent gets one clear line, not a
    Python traceback."""
    _, future = _future_database(tmp_path)
    done = subprocess.run([sys.executable, "-m", "agent.cli", "audit", "verify", "--data-dir", str(tmp_path)],
                          check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert f"database schema version {future} is newer than this agent knows" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr
