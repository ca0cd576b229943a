"""Start-up time to ready: from spawning `python -m agent.cli run --simulate` (fresh data directory
each time) to its first 200 at /healthz, against the bare aiohttp server's spawn-to-first-200.
Median of 5 starts each, agent and bare interleaved."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from typing import Any

from bench._common import agent_args, bare_args, figure, scratch_dir, spawn_until_ready
from tests.live import free_port

STARTS = 5


def figures() -> Iterator[dict[str, Any]]:
    agent_times: list[float] = []
    bare_times: list[float] = []
    with scratch_dir("startup") as work:
        for i in range(STARTS):
            port = free_port()
            bare = spawn_until_ready(bare_args(port), port, work / f"bare-{i}.log")
            bare.stop()
            bare_times.append(bare.seconds_to_ready)

            data_dir = work / f"data-{i}"
            data_dir.mkdir()
            port = free_port()
            agent = spawn_until_ready(agent_args(data_dir, port), port, work / f"agent-{i}.log")
            agent.stop()
            agent_times.append(agent.seconds_to_ready)
    yield figure("startup.ready_ms", statistics.median(agent_times) * 1000, "ms",
                 baseline=statistics.median(bare_times) * 1000)


def run() -> list[dict[str, Any]]:
    return list(figures())
