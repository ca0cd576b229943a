"""Versioned schema migrations, run at start.

Each module `mNNNN_name.py` holds `def up(db)`; NNNN is the schema version it brings the
database to, recorded in SQLite's `user_version`. A migration runs in one transaction with the
version bump, so a crash during a migration leaves the previous version intact.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

from sqlite_utils import Database

_NAME = re.compile(r"m(\d{4})_\w+")


class SchemaTooNew(RuntimeError):
    """The database was written by a newer agent: refusing beats corrupting it."""


def available() -> list[tuple[int, ModuleType]]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        match = _NAME.fullmatch(info.name)
        if match:
            found.append((int(match.group(1)), importlib.import_module(f"{__name__}.{info.name}")))
    found.sort(key=lambda item: item[0])
    versions = [version for version, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations are not numbered 1..n without gaps: {versions}")
    return found


def current_version(db: Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: Database) -> int:
    """Bring the schema to the newest version; returns it. Refuses a database from the future."""
    migrations = available()
    newest = migrations[-1][0] if migrations else 0
    version = current_version(db)
    if version > newest:
        raise SchemaTooNew(
            f"database schema version {version} is newer than this agent knows ({newest}); "
            "refusing to run an older agent on it"
        )
    for number, module in migrations:
        if number <= version:
            continue
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            module.up(db)
            db.conn.execute(f"PRAGMA user_version = {number}")
            db.conn.execute("COMMIT")
        except BaseException:
            db.rollback()
            raise
    return newest
