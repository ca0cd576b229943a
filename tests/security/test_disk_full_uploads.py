"""Uploads on a nearly full disk: the reserve is checked before a file is written, every refusal
is the French 503 (never a 500), no file stays without its row, and a restart finds none either.
Needs root to mount a small tmpfs (tests/api/test_disk_full.py); skipped otherwise."""

from __future__ import annotations

import io
import os
import random
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.api.helpers import API, assert_error, logged_in, patient, running_agent
from tests.api.test_disk_full import small_disk  # noqa: F401 (the fixture)

pytestmark = pytest.mark.security

RESERVE_MIB = 4


def noise_png(seed: int) -> bytes:
    """About 2.4 MB that no compression shrinks: a photo's worth of bytes."""
    rng = random.Random(seed)
    out = io.BytesIO()
    Image.frombytes("RGB", (1024, 800), rng.randbytes(1024 * 800 * 3)).save(out, "PNG", compress_level=0)
    return out.getvalue()


def blob_files(data_dir: Path) -> set[str]:
    return {p.parent.name + p.name for p in (data_dir / "blobs").glob("??/*") if not p.name.startswith(".tmp-")}


def test_uploads_stop_at_the_reserve_with_a_503_and_leave_no_file_behind(tmp_path: Path, small_disk: Path) -> None:  # noqa: F811
    with running_agent(tmp_path / "conf", data_dir=small_disk, storage={"min_free_mib": RESERVE_MIB},
                       dossiers={"max_upload_mib": 4}) as agent:
        nurse = logged_in(agent, agent.add_account())
        made = nurse.post(f"{agent.url}{API}/patients", json=patient()).json()
        dossier = nurse.post(f"{agent.url}{API}/dossiers", json={
            "patient_id": made["id"], "consent": {"given": True}, "accompaniment": {"kind": "alone"},
            "specialist": {"name": "PETIT", "specialty": "Cardiologie", "email": "c.petit@chu.example"}, "slot": {"now": True}, "confirm_overlap": True}).json()
        url = f"{agent.url}{API}/dossiers/{dossier['id']}/documents"
        statuses = []
        for n in range(8):
            reply = nurse.post(url, files={"file": (f"photo{n}.png", noise_png(n))}, data={"kind": "photo"})
            statuses.append(reply.status_code)
            if reply.status_code != 201:
                assert_error(reply, 503, "storage_full")
            assert shutil.disk_usage(small_disk).free >= (RESERVE_MIB - 1) * 2**20  # the reserve stays for audit and sessions
        assert 201 in statuses and 503 in statuses and set(statuses) <= {201, 503}, statuses
        kept = nurse.get(f"{agent.url}{API}/dossiers/{dossier['id']}").json()["documents"]
        assert len(kept) == statuses.count(201)
        assert len(blob_files(small_disk)) == len(kept)  # no file without its row
        # The cart still reads what it kept, and audits it.
        assert nurse.get(f"{url}/{kept[0]['id']}").status_code == 200

    # A file the crash of a write left (written, row never committed) is gone after a restart.
    orphan = small_disk / "blobs" / "ab" / ("c" * 62)
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"orphan")
    with running_agent(tmp_path / "conf2", data_dir=small_disk, storage={"min_free_mib": RESERVE_MIB}):
        assert not orphan.exists() and len(blob_files(small_disk)) == len(kept)
    assert os.path.ismount(small_disk)
