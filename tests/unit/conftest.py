"""Fixtures of the domain unit tests: a real SQLite file brought to the newest schema by the real
migrations (agent/store/migrations), the acting staff member, and the dossier settings.

Migrating takes tens of milliseconds, so the schema is migrated once per session into a template
file and each test gets its own copy, reopened with `connect()` (the agent's own configuration:
WAL, foreign keys, and a `migrate()` that finds nothing left to do). Domain functions run inside
`transaction()`, as `Store.write` runs them for the HTTP layer.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlite_utils import Database

from agent.access.keys import KEY_FILE
from agent.access.roles import Role
from agent.audit import Actor
from agent.config import Config
from agent.links.invitation import Settings, settings_from
from agent.store import transaction
from agent.store.database import DATABASE_NAME, connect
from agent.store.migrations import available, current_version

T = TypeVar("T")


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schema") / DATABASE_NAME
    db = connect(path)
    try:
        assert current_version(db) == available()[-1][0]
    finally:
        db.close()  # the last connection checkpoints the WAL into the file: the copy is complete
    return path


@pytest.fixture
def db(migrated_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A migrated database of this test's own, in a real file."""
    path = tmp_path / DATABASE_NAME
    shutil.copyfile(migrated_template, path)
    shutil.copyfile(migrated_template.parent / KEY_FILE, tmp_path / KEY_FILE)  # the cart's key goes with its database
    database = connect(path)
    # Durability is not what these tests check (tests/store/test_crash.py does): no fsync per commit.
    database.execute("PRAGMA synchronous=OFF")
    yield database
    database.close()


@pytest.fixture
def nurse() -> Actor:
    return Actor(login="nurse.martin", role=Role.NURSE.value, remote_addr="10.0.0.21")


@pytest.fixture
def settings() -> Settings:
    """The agent's default dossier settings: rooms open 15 min before the slot, stay open 45 min after."""
    return settings_from(Config())


def write(db: Database, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(db, *args)` in one all-or-nothing transaction, as `Store.write` runs it."""
    with transaction(db):
        return fn(db, *args, **kwargs)


@pytest.fixture
def run() -> Callable[..., Any]:
    """`run(db, fn, *args)`: a domain function in its own transaction, as the agent runs it."""
    return write


def row_counts(db: Database) -> dict[str, int]:
    """Rows in every table: what "nothing was saved" compares."""
    return {name: db.execute(f"SELECT count(*) FROM [{name}]").fetchone()[0] for name in db.table_names()}


@pytest.fixture
def counts() -> Callable[[Database], dict[str, int]]:
    return row_counts
