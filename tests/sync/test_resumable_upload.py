"""A large document goes to the region so that a cut link does not restart it from zero: the cart
uploads it with tus to a real upload server on loopback (tuspyserver, tests/sync/tus_server.py),
through the fault proxy, which cuts the uploads' PATCHes half-way or holds them while the agent is
killed; the DocumentReference on the real FHIR server (sekmet) then points at the finished file,
with its size and hash. What a person would see: the file whole and once on the upload server,
each resource once on the FHIR server, the queue empty, the progress said in French meanwhile."""

from __future__ import annotations

import base64
import hashlib
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cloud_sync.resumable_upload import CHUNK_BYTES
from tests.live import running_agent
from tests.sync.cart_dossiers import Made, jpeg, make_dossiers, pdf
from tests.sync.fault_proxy import FaultProxy, fault_proxy
from tests.sync.fhir_server import FhirServer, fhir_server
from tests.sync.outcomes import assert_exactly, drained, problems, queue_counts, sync_config, sync_status, wait_until
from tests.sync.tus_server import TusServer, tus_server

pytestmark = pytest.mark.slow

PHOTO = jpeg(1600, 1200, seed=3, quality=95)  # about 2.2 MB: three chunks
SMALL = pdf(seed=1)  # a few kB: still inside its DocumentReference


@dataclass
class Rig:
    fhir: FhirServer
    uploads: TusServer
    proxy: FaultProxy  # between the cart and the upload server
    data_dir: Path

    def config(self, **more: Any) -> dict[str, Any]:
        return sync_config(self.fhir.base_url, upload_url=self.proxy.base_url + "/", auth="bearer",
                           bearer_token=self.uploads.token, **more)

    def made(self) -> Made:
        return make_dossiers(self.data_dir, 1, documents=lambda i: [(PHOTO, "plaie-talon.jpg", "photo"), (SMALL, "ordonnance.pdf", "resultat")])


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with fhir_server(tmp_path / "fhir") as fhir, tus_server(tmp_path) as uploads, \
            fault_proxy(uploads.port, base_path="/files") as proxy:
        yield Rig(fhir, uploads, proxy, tmp_path / "cart" / "data")


def _attachments(rig: Rig) -> dict[str, dict[str, Any]]:
    """The server's DocumentReferences' attachments, by title."""
    found = [r["content"][0]["attachment"] for r in rig.fhir.search("DocumentReference")]
    return {a["title"]: a for a in found}


def _assert_photo_on_the_region(rig: Rig, made: Made) -> None:
    """The photo once, whole, on the upload server; its DocumentReference names it with its size and
    SHA-1; the small PDF inside its own; each resource once on the FHIR server."""
    assert list(rig.uploads.finished().values()) == [PHOTO], rig.proxy.describe()
    assert len(rig.uploads.uploads()) == 1, f"the upload started again from zero: {rig.uploads.uploads()}"
    attachments = _attachments(rig)
    photo = attachments["plaie-talon.jpg"]
    assert "data" not in photo and photo["size"] == len(PHOTO)
    assert base64.b64decode(photo["hash"]) == hashlib.sha1(PHOTO).digest()  # noqa: S324 (FHIR's choice)
    assert rig.uploads.download(photo["url"]) == PHOTO
    assert base64.b64decode(attachments["ordonnance.pdf"]["data"]) == SMALL
    assert_exactly(rig.fhir, made)
    assert problems(rig.data_dir) == []


def test_a_photo_whose_upload_is_cut_three_times_resumes_where_it_stopped(rig: Rig) -> None:
    made = rig.made()
    rig.proxy.faults(script=("cut_body", "cut_body", "cut_body"), methods=("PATCH",))
    with running_agent(rig.data_dir.parent, data_dir=rig.data_dir, sync=rig.config()) as agent:
        wait_until(drained(agent.data_dir), 60, "the queue drained", rig.proxy)
    assert rig.proxy.stats["cut_body"] == 3, rig.proxy.describe()
    _assert_photo_on_the_region(rig, made)
    # resumed, not restarted: the cuts cost at most the chunk each was carrying, never the file again
    assert rig.proxy.stats["bytes_up"] < len(PHOTO) + 3 * CHUNK_BYTES // 2 + 64 * 1024, rig.proxy.describe()


def test_an_upload_interrupted_by_a_kill_resumes_after_the_restart(rig: Rig) -> None:
    """SIGKILL while the second chunk is held before the upload server (a power cut mid-file)."""
    made = rig.made()
    rig.proxy.faults(script=("pass", "delay"), methods=("PATCH",))
    with running_agent(rig.data_dir.parent, data_dir=rig.data_dir, sync=rig.config()) as agent:
        wait_until(lambda: "PATCH" in rig.proxy.held_requests, 30, "the second chunk in flight", rig.proxy)
        agent.stop(signal.SIGKILL)
        assert queue_counts(agent.data_dir).get("pending")
        agent.start()
        wait_until(drained(agent.data_dir), 60, "the queue drained", rig.proxy)
    _assert_photo_on_the_region(rig, made)


def test_an_upload_the_server_forgot_starts_again_and_the_wait_is_said_in_french(rig: Rig) -> None:
    made = rig.made()
    rig.proxy.faults(script=("pass",), methods=("PATCH",), busy=1.0)  # the first chunk goes, then 503 or 429
    with running_agent(rig.data_dir.parent, data_dir=rig.data_dir, sync=rig.config(max_backoff_seconds=0.5)) as agent:
        said = wait_until(lambda: "serveur de fichiers" in (s := sync_status(agent)) and s, 30, "the wait said", rig.proxy)
        size = f"{len(PHOTO) / 1_000_000:.1f}".replace(".", ",")
        progress = f"fichier de {size} Mo envoyé à {100 * CHUNK_BYTES // len(PHOTO)} %, la suite partira de là"
        assert "serveur de fichiers indisponible (HTTP " in said and progress in said, said
        assert "plaie-talon" not in said  # a file's name may name the resident: the technician reads this
        rig.uploads.forget_all()  # its unfinished uploads expired meanwhile
        rig.proxy.clean()
        wait_until(drained(agent.data_dir), 60, "the queue drained", rig.proxy)
    _assert_photo_on_the_region(rig, made)


def test_a_file_too_large_for_the_region_is_set_aside_and_the_rest_goes(tmp_path: Path) -> None:
    with fhir_server(tmp_path / "fhir") as fhir, tus_server(tmp_path, max_bytes=1024 * 1024) as uploads, \
            fault_proxy(uploads.port, base_path="/files") as proxy:
        rig = Rig(fhir, uploads, proxy, tmp_path / "cart" / "data")
        made = rig.made()
        with running_agent(rig.data_dir.parent, data_dir=rig.data_dir, sync=rig.config()) as agent:
            wait_until(drained(agent.data_dir), 60, "the queue drained", proxy)
        assert problems(rig.data_dir) == [("document", "refused", "fichier trop gros pour le serveur de fichiers régional (HTTP 413) : à transmettre autrement")]
        assert set(_attachments(rig)) == {"ordonnance.pdf"}  # the rest of the dossier went
        assert fhir.count("Observation") == len(made.ids["Observation"])
