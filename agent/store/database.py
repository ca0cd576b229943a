"""One SQLite database in WAL mode, reached from a single worker thread.

Durability: `synchronous=FULL` in WAL mode means a transaction that returned from COMMIT survives
a power cut; an acknowledged write is never lost. Every multi-row change goes through
`transaction()`, so a crash leaves either all of it or none of it.

The event loop never touches SQLite: `Store.read`/`Store.write` run functions of the domain
modules (plain synchronous functions taking a `Database`) on one dedicated thread. The same
functions serve the command line, which opens the database directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar

from sqlite_utils import Database

from agent import audit
from agent.access.keys import Keys, attach, seal_what_is_clear
from agent.access.keys import load as load_keys
from agent.refusal import CountedRefusal
from agent.store.migrations import migrate

P = ParamSpec("P")
T = TypeVar("T")

DATABASE_NAME = "telecart.db"


class StorageFull(Exception):
    """The disk is (nearly) full: the write was refused and nothing was changed."""


def _is_disk_full(exc: BaseException) -> bool:
    """Only a full disk; an I/O error is another fault (failing storage) and must say so."""
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    return isinstance(exc, OSError) and exc.errno == errno.ENOSPC


def connect(path: Path) -> Database:
    """Open (creating if needed) the database at `path`, configured and migrated, with the cart's
    keys attached (agent/access/keys.py: the key file beside it, or systemd's credential)."""
    in_memory = str(path) == ":memory:"  # the tests' throwaway databases: no file, a key of their own
    if not in_memory:
        _private(path)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=10.0)
    db = Database(conn, execute_plugins=False)  # no sqlite-utils plugin hooks the health store's connection
    with db.ensure_autocommit_on():
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
    migrate(db)
    keys = Keys(secrets.token_bytes(32)) if in_memory else load_keys(path.parent)
    attach(db, keys)
    with transaction(db):
        seal_what_is_clear(db, keys)
        audit.start_keyed_chain(db)
    return db


def _private(path: Path) -> None:
    """The database (and the WAL and shared-memory files SQLite makes with its mode) readable by
    the agent's user alone, whatever the umask of whoever runs it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            os.chmod(file, 0o600)


@contextlib.contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """All-or-nothing block. The outermost level takes the write lock at once (BEGIN IMMEDIATE),
    so a read-then-write inside it never fails on a concurrent writer; nested levels are savepoints.
    A CountedRefusal is the one exception that commits what was written before it (agent/refusal.py)."""
    if db.conn.in_transaction:
        kept: CountedRefusal | None = None
        with db.atomic():
            try:
                yield db
            except CountedRefusal as refusal:  # its bookkeeping stays; the savepoint is released
                kept = refusal
        if kept is not None:
            raise kept
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except CountedRefusal:
        _commit(db)
        raise
    except BaseException:
        db.rollback()
        raise
    _commit(db)


def _commit(db: Database) -> None:
    try:
        db.conn.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise


class Store:
    """The agent's handle on its data directory."""

    def __init__(self, data_dir: Path, min_free_bytes: int = 0) -> None:
        self.data_dir = data_dir
        self.min_free_bytes = min_free_bytes
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self.db: Database | None = None

    async def open(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        loop = asyncio.get_running_loop()
        self.db = await loop.run_in_executor(self._executor, connect, self.data_dir / DATABASE_NAME)

    async def close(self) -> None:
        if self.db is not None:
            db, self.db = self.db, None
            await asyncio.get_running_loop().run_in_executor(self._executor, db.close)
        self._executor.shutdown(wait=True)

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.data_dir).free

    def check_reserve(self, incoming: int = 0) -> None:
        """StorageFull unless `incoming` more bytes leave the reserve (`min_free_mib`) untouched:
        checked before a file is written, as `write` checks it before a row."""
        if self.min_free_bytes and self.free_bytes() - incoming < self.min_free_bytes:
            raise StorageFull()

    async def read(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(db, *args)` on the store thread."""
        assert self.db is not None, "store is not open"
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, self.db, *args)

    async def write(self, fn: Callable[..., T], *args: object, essential: bool = False) -> T:
        """Run `fn(db, *args)` on the store thread inside one transaction.

        Refused with StorageFull before starting when the disk is nearly full, unless `essential`:
        the few small writes that keep the cart usable and traced (sessions, audit records of
        reads and refusals) may use the reserve that `min_free_mib` keeps. Mapped to StorageFull
        (after rollback) when SQLite itself runs out of space half-way."""
        assert self.db is not None, "store is not open"
        if not essential:
            self.check_reserve()

        def run(db: Database) -> T:
            with transaction(db):
                return fn(db, *args)

        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, run, self.db)
        except (sqlite3.Error, OSError) as exc:
            if _is_disk_full(exc):
                raise StorageFull() from exc
            raise
