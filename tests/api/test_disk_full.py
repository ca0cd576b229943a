"""A full disk: writes are refused with a clear French 503, nothing saved is lost, and the cart
works again as soon as space is freed. Needs root to mount a small tmpfs; skipped otherwise."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.helpers import API, anonymous, assert_error, logged_in, patient, running_agent

SIZE_MIB = 16
CHUNK = b"\0" * (1 << 20)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "data"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("disk-full test needs root to mount a tmpfs")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE_MIB}m,mode=0700", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip() or mounted.returncode}): disk-full behaviour not tested")
    try:
        yield disk
    finally:
        if subprocess.run(["umount", str(disk)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def _fill(path: Path) -> None:
    """Write 1 MiB chunks until the disk says no space is left (a short write, then ENOSPC)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, CHUNK)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)


# min_free_mib = 1: the agent sees the disk is nearly full and refuses before writing.
# min_free_mib = 0: no margin, SQLite itself runs out of space half-way and must roll back.
@pytest.mark.parametrize("min_free_mib", [1, 0], ids=["refused-before-writing", "sqlite-runs-out"])
def test_full_disk_refuses_writes_and_loses_nothing(tmp_path: Path, small_disk: Path, min_free_mib: int) -> None:
    with running_agent(tmp_path / "conf", data_dir=small_disk, storage={"min_free_mib": min_free_mib}) as agent:
        url = agent.url
        nurse = logged_in(agent, agent.add_account())
        first = patient()
        created = nurse.post(f"{url}{API}/patients", json=first)
        assert created.status_code == 201, created.text
        pid = created.json()["id"]

        filler = small_disk / "filler"
        _fill(filler)
        assert os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize < (1 << 20)

        refused = patient()
        body = assert_error(nurse.post(f"{url}{API}/patients", json=refused), 503, "storage_full")
        assert "disque" in body["message"] and "plein" in body["message"]
        # Reading a patient writes an audit record; when that record cannot be written the read is
        # refused too (no unaudited access to health data).
        assert_error(nurse.get(f"{url}{API}/patients/{pid}"), 503, "storage_full")
        # The agent itself is still up and says so.
        assert anonymous().get(f"{url}/healthz").status_code == 200

        filler.unlink()
        again = nurse.get(f"{url}{API}/patients/{pid}")
        assert again.status_code == 200, again.text
        assert {k: again.json()[k] for k in first} == first
        listed = nurse.get(f"{url}{API}/patients").json()
        assert [p["birth_name"] for p in listed["items"]] == [first["birth_name"]], "a refused write was half-saved"
        assert nurse.post(f"{url}{API}/patients", json=patient()).status_code == 201

        verified = subprocess.run([sys.executable, "-m", "agent.cli", "audit", "verify", "--data-dir", str(small_disk)],
                                  capture_output=True, text=True)
        assert verified.returncode == 0, verified.stdout + verified.stderr
