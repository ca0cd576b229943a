"""The sync fault tests' rig: a real FHIR server (sekmet) and, between the cart and it, the
fault proxy; the cart's data directory beside them. The `rig` fixture (tests/sync/conftest.py)
makes one per test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.sync.fault_proxy import FaultProxy, fault_proxy
from tests.sync.fhir_server import FhirServer, fhir_server


@dataclass
class Rig:
    server: FhirServer
    proxy: FaultProxy
    data_dir: Path


@contextmanager
def fault_rig(tmp_path: Path) -> Iterator[Rig]:
    with fhir_server(tmp_path / "fhir") as server, fault_proxy(server.port) as proxy:
        yield Rig(server, proxy, tmp_path / "cart" / "data")
