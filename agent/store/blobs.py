"""Content-addressed file store: a blob's name is the SHA-256 of its bytes.

A blob is written to a temporary file in the same directory, fsync'ed, renamed into place, and the
directory fsync'ed: after a power cut a blob is either whole under its final name or absent,
never half-written. Writing the same content twice stores it once.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from agent.store.database import StorageFull

_DIGEST = re.compile(r"[0-9a-f]{64}")


class BlobNotFound(KeyError):
    pass


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        # Blobs written whose row is not committed yet: never removed as unused meanwhile.
        self._pins: Counter[str] = Counter()
        self._pins_lock = threading.Lock()

    def path_of(self, digest: str) -> Path:
        if not _DIGEST.fullmatch(digest):
            raise BlobNotFound(digest)
        return self.root / digest[:2] / digest[2:]

    def put(self, data: bytes, pin: bool = False) -> str:
        """Store `data` durably; returns its SHA-256 hex digest. A full disk is StorageFull, with
        nothing left behind. `pin`: keep it from `remove_unused` until `unpin`."""
        digest = hashlib.sha256(data).hexdigest()
        if pin:
            with self._pins_lock:
                self._pins[digest] += 1
        try:
            self._write(digest, data)
        except OSError as exc:
            if pin:
                self.unpin(digest)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull() from exc
            raise
        return digest

    def unpin(self, digest: str) -> None:
        with self._pins_lock:
            self._pins[digest] -= 1
            if self._pins[digest] <= 0:
                del self._pins[digest]

    def _write(self, digest: str, data: bytes) -> None:
        final = self.path_of(digest)
        if final.exists():
            return
        new_folder = not final.parent.exists()
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_name, final)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        _fsync_dir(final.parent)
        if new_folder:  # the new sub-folder's own entry lives in the root
            _fsync_dir(self.root)

    def get(self, digest: str) -> bytes:
        try:
            return self.path_of(digest).read_bytes()
        except FileNotFoundError as exc:
            raise BlobNotFound(digest) from exc

    def exists(self, digest: str) -> bool:
        try:
            return self.path_of(digest).is_file()
        except BlobNotFound:
            return False

    def remove_leftovers(self) -> int:
        """Delete temporary files a crash left behind; returns how many."""
        removed = 0
        if self.root.exists():
            for tmp in self.root.glob("*/.tmp-*"):
                tmp.unlink(missing_ok=True)
                removed += 1
        return removed

    def digests(self) -> Iterator[str]:
        if self.root.exists():
            for path in self.root.glob("??/*"):
                if _DIGEST.fullmatch(path.parent.name + path.name):
                    yield path.parent.name + path.name

    def remove_unused(self, used: set[str], only: str | None = None) -> int:
        """Delete the blobs no row uses (a row that failed, a crash between file and row), but a
        blob still pinned by a write in progress; returns how many."""
        removed = 0
        for digest in [only] if only else list(self.digests()):
            with self._pins_lock:
                if digest in used or digest in self._pins:
                    continue
                path = self.path_of(digest)
                if not path.exists():
                    continue
                path.unlink()
            removed += 1
        return removed
