"""The content-addressed blob store: a blob's name is the SHA-256 of its bytes, stored once,
written atomically (a crash leaves at most a `.tmp-*` file, which the next start removes)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.store import transaction
from agent.store.blobs import BlobNotFound, BlobStore
from agent.store.database import DATABASE_NAME, connect
from agent.store.files import BLOB_COLUMNS
from tests.live import LiveAgent, free_port


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_put_get_round_trip_named_by_sha256(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    data = "Photographie de la plaie — talon gauche".encode() + bytes(range(256))
    digest = store.put(data)

    assert digest == hashlib.sha256(data).hexdigest()
    assert store.get(digest) == data
    assert store.exists(digest)
    # On disk: <root>/<first two hex digits>/<the other 62>, holding exactly the bytes.
    on_disk = tmp_path / "blobs" / digest[:2] / digest[2:]
    assert files_under(tmp_path / "blobs") == [on_disk]
    assert on_disk.read_bytes() == data
    assert hashlib.sha256(on_disk.read_bytes()).hexdigest() == digest


def test_empty_blob(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    digest = store.put(b"")
    assert digest == hashlib.sha256(b"").hexdigest()
    assert store.get(digest) == b""


def test_same_content_is_stored_once(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = BlobStore(root)
    first = store.put(b"same bytes")
    path = root / first[:2] / first[2:]
    inode, mtime = path.stat().st_ino, path.stat().st_mtime_ns

    second = store.put(b"same bytes")
    assert second == first
    assert files_under(root) == [path]
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (inode, mtime), "the blob was written again"

    other = store.put(b"other bytes")
    assert other != first
    assert len(files_under(root)) == 2
    assert store.get(first) == b"same bytes" and store.get(other) == b"other bytes"


def test_blob_written_by_another_store_on_the_same_root_is_found(tmp_path: Path) -> None:
    digest = BlobStore(tmp_path / "blobs").put(b"persisted")
    assert BlobStore(tmp_path / "blobs").get(digest) == b"persisted"


def test_leftover_temporary_files_are_removed(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = BlobStore(root)
    kept = store.put(b"a whole blob")
    # What a crash between mkstemp and rename leaves: a .tmp-* file next to the blobs.
    (root / kept[:2] / ".tmp-abc123").write_bytes(b"half a bl")
    (root / "ff").mkdir()
    (root / "ff" / ".tmp-zzz").write_bytes(b"")

    assert store.remove_leftovers() == 2
    assert files_under(root) == [root / kept[:2] / kept[2:]]
    assert store.get(kept) == b"a whole blob"
    assert store.remove_leftovers() == 0


def test_remove_leftovers_on_a_store_never_written(tmp_path: Path) -> None:
    assert BlobStore(tmp_path / "absent").remove_leftovers() == 0


def test_agent_start_removes_leftovers(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    blobs = BlobStore(data_dir / "blobs")
    kept = blobs.put(b"survives the restart")
    uses(data_dir, kept)  # a row names it: not an orphan
    leftover = data_dir / "blobs" / kept[:2] / ".tmp-crash"
    leftover.write_bytes(b"half")
    agent = LiveAgent(data_dir, free_port()).start()
    try:
        assert not leftover.exists()
        assert blobs.get(kept) == b"survives the restart"
        assert "removed 1 half-written blobs" in agent.log()
    finally:
        assert agent.stop() == 0


def uses(data_dir: Path, digest: str) -> None:
    """A row naming the blob, as a staff member's signature does."""
    db = connect(data_dir / DATABASE_NAME)
    with transaction(db):
        db["staff_signatures"].insert({"login": f"user-{digest[:6]}", "blob": digest, "uploaded_at": "2026-12-05T10:00:00Z"})
    db.close()


def test_agent_start_removes_files_no_row_uses(tmp_path: Path) -> None:
    """A crash between a file and its row, or a row refused after its file was written, leaves a
    file nobody will ever read: the next start removes it, and only it."""
    data_dir = tmp_path / "data"
    blobs = BlobStore(data_dir / "blobs")
    used, orphan = blobs.put(b"a signature"), blobs.put(b"a document whose row never came")
    uses(data_dir, used)
    agent = LiveAgent(data_dir, free_port()).start()
    try:
        assert blobs.exists(used) and not blobs.exists(orphan)
        assert "removed 1 files no row uses" in agent.log()
    finally:
        assert agent.stop() == 0


def test_every_column_that_names_a_blob_is_known(tmp_path: Path) -> None:
    """A column of blobs missing from BLOB_COLUMNS would see its files removed as unused."""
    db = connect(tmp_path / DATABASE_NAME)
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    named = {(t, c.name) for t in tables for c in db[t].columns if "blob" in c.name}
    db.close()
    assert named == set(BLOB_COLUMNS)


BAD_DIGESTS = [
    "",
    "abc",
    "0" * 63,
    "0" * 65,
    "A" * 64,  # upper case is not how digests are written
    "g" * 64,
    "../" + "0" * 61,
    "/etc/passwd",
    "00/" + "0" * 61,
    "0" * 64 + "\n",
    " " + "0" * 63,
]


@pytest.mark.parametrize("digest", BAD_DIGESTS)
def test_bad_digests_are_refused(tmp_path: Path, digest: str) -> None:
    store = BlobStore(tmp_path / "blobs")
    store.put(b"something")
    with pytest.raises(BlobNotFound):
        store.path_of(digest)
    with pytest.raises(BlobNotFound):
        store.get(digest)
    assert store.exists(digest) is False


def test_absent_digest_is_not_found(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    absent = hashlib.sha256(b"never stored").hexdigest()
    with pytest.raises(BlobNotFound):
        store.get(absent)
    with pytest.raises(KeyError):  # BlobNotFound is a KeyError for callers that catch that
        store.get(absent)
    assert store.exists(absent) is False


def test_no_temporary_file_survives_a_put(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = BlobStore(root)
    for i in range(20):
        store.put(os.urandom(i * 100))
    assert not [p for p in root.rglob(".tmp-*")]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=2048), min_size=1, max_size=6))
def test_round_trip_property(blobs: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = BlobStore(Path(tmp) / "blobs")
        digests = [store.put(b) for b in blobs]
        for data, digest in zip(blobs, digests):
            assert digest == hashlib.sha256(data).hexdigest()
            assert store.get(digest) == data
        assert len(files_under(Path(tmp) / "blobs")) == len(set(blobs))
