"""The short torture run of CI (tests/store/torture.py; `scripts/torture` runs hundreds of kills).

Each kill restarts the agent, and nearly all of a start is Python importing the agent's modules: the
run's agent starts its next process ahead, importing while the current one serves the clients, and
only then runs it on the data directory (tests/store/warm_agent.py): about 15 s -> 11 s here."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from tests.store import torture as torture_run
from tests.store.torture import torture
from tests.store.warm_agent import WarmAgent

pytestmark = pytest.mark.slow


def test_a_dozen_random_kills_lose_no_acknowledged_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    agents: list[WarmAgent] = []

    def warm_agent(*args: Any, **kwargs: Any) -> WarmAgent:
        agents.append(WarmAgent(*args, **kwargs))
        return agents[-1]

    monkeypatch.setattr(torture_run, "LiveAgent", warm_agent)
    try:
        figures = torture(kills=12, seed=20261205, data_dir=data_dir)
    finally:
        for agent in agents:
            agent.discard()
            if agent.proc is not None and agent.proc.poll() is None:
                agent.stop(signal.SIGKILL)
    assert figures["lost"] == 0, figures
    assert figures["acknowledged_writes"] > 12, figures  # the clients were busy between the kills
