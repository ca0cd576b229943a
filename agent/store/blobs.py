"""Content-addressed file store: a blob's name is the SHA-256 of its bytes.

A blob is written to a temporary file in the same directory, fsync'ed, renamed into place, and the
directory fsync'ed: after a power cut a blob is either whole under its final name or absent,
never half-written. Writing the same content twice stores it once.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

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

    def path_of(self, digest: str) -> Path:
        if not _DIGEST.fullmatch(digest):
            raise BlobNotFound(digest)
        return self.root / digest[:2] / digest[2:]

    def put(self, data: bytes) -> str:
        """Store `data` durably; returns its SHA-256 hex digest."""
        digest = hashlib.sha256(data).hexdigest()
        final = self.path_of(digest)
        if final.exists():
            return digest
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
        return digest

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

