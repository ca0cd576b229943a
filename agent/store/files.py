"""A file and the row that names it, written as one act: the disk reserve is checked before the
file is written, a full disk is StorageFull (503) whether the file or the row hit it, and a file
whose row was never committed does not stay behind."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TypeVar

from sqlite_utils import Database

from agent.store.blobs import BlobStore
from agent.store.database import Store

T = TypeVar("T")

# Every column that names a blob. A new one must be listed here, or its files would be removed
# as unused (tests/store/test_blobs.py checks the schema against this list).
BLOB_COLUMNS = (("documents", "blob"), ("documents", "original_blob"), ("staff_signatures", "blob"))


def used_blobs(db: Database, only: str | None = None) -> set[str]:
    """The blobs some row names; with `only`, only whether that one is (not every name collected)."""
    where, params = ("= ?", [only]) if only else ("IS NOT NULL", [])
    return {row[0] for table, column in BLOB_COLUMNS
            for row in db.execute(f"SELECT {column} FROM {table} WHERE {column} {where}", params)}  # noqa: S608 (constants)


def remove_unused(db: Database, blobs: BlobStore, only: str | None = None) -> int:
    """On the store thread, so no row commits between reading what is used and removing. `only`:
    look at that one blob (a write just failed) rather than all of them (at start)."""
    return blobs.remove_unused(used_blobs(db, only), only)


async def write_with_file(store: Store, blobs: BlobStore, data: bytes, write: Callable[[Database, str], T]) -> T:
    """Keep `data` as a blob, then run `write(db, digest)` in one transaction. When the row is
    refused (a rule, a full disk), the file goes too, unless another row uses the same content."""
    store.check_reserve(len(data))
    loop = asyncio.get_running_loop()
    digest = await loop.run_in_executor(None, lambda: blobs.put(data, pin=True))
    try:
        result = await store.write(write, digest)
    except BaseException:
        blobs.unpin(digest)
        with contextlib.suppress(Exception):  # the refusal matters more than the cleanup; the next start retries it
            await store.write(remove_unused, blobs, digest, essential=True)
        raise
    blobs.unpin(digest)
    return result
