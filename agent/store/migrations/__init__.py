"""Versioned schema migrations, run at start.

Each module `mNNNN_name.py` holds `def up(db)`; NNNN is the schema version it brings the
database to, recorded in SQLite's `user_version`. The migrations a start finds pending run in one
transaction with the version bumps: a crash during an upgrade leaves the previous version intact,
and a new cart's database is made with one commit (one fsync), not one per migration. Only the
pending modules are imported: a restart on an up-to-date database imports none.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

from sqlite_utils import Database

_NAME = re.compile(r"m(\d{4})_\w+")


class SchemaTooNew(RuntimeError):
    """The database was written by a newer agent: refusing beats corrupting it."""


def available() -> list[tuple[int, str]]:
    """(version, module name) of every migration, oldest first."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        match = _NAME.fullmatch(info.name)
        if match:
            found.append((int(match.group(1)), f"{__name__}.{info.name}"))
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
    pending = [(number, name) for number, name in migrations if number > version]
    if not pending:
        return newest
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        for number, name in pending:
            importlib.import_module(name).up(db)
            db.conn.execute(f"PRAGMA user_version = {number}")
        db.conn.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise
    return newest
