"""The short torture run of CI (tests/store/torture.py; `scripts/torture` runs hundreds of kills)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.store.torture import torture

pytestmark = pytest.mark.slow


def test_a_dozen_random_kills_lose_no_acknowledged_write(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    figures = torture(kills=12, seed=20261205, data_dir=data_dir)
    assert figures["lost"] == 0, figures
    assert figures["acknowledged_writes"] > 12, figures  # the clients were busy between the kills
