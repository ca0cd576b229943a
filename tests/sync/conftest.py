"""The sync tests' fixtures."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sync.rig import Rig, fault_rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    """A real FHIR server behind the fault proxy, and where the cart keeps its data (tests/sync/rig.py)."""
    with fault_rig(tmp_path) as made:
        yield made
