"""Start-up time to ready: from spawning `python -m agent.cli run --simulate` (fresh data directory
each time) to its first 200 at /healthz, against the bare aiohttp server's spawn-to-first-200.
Median of 5 starts each, agent and bare interleaved. And the same cart started again (its
database, key and certificate already made): what a cart does after every power cut or update.

And an operator's command that does not run the agent, `telecart users list` on the data directory
the starts made, against the interpreter doing nothing (`python -c pass`), interleaved likewise."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench._common import agent_args, bare_args, figure, scratch_dir, spawn_until_ready
from tests.live import free_port

STARTS = 5


def compiled() -> None:
    """The agent's bytecode written first, as a cart's installation does: a shell with
    PYTHONDONTWRITEBYTECODE (or a tree just edited) would otherwise time compiling every start."""
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", *(str(root / p) for p in ("agent", "drivers", "cloud_sync"))],
                   check=True, capture_output=True)


def figures() -> Iterator[dict[str, Any]]:
    compiled()
    agent_times: list[float] = []
    restart_times: list[float] = []
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

            port = free_port()  # the same cart started again: its database, key and certificate made
            again = spawn_until_ready(agent_args(data_dir, port), port, work / f"agent-{i}-again.log")
            again.stop()
            restart_times.append(again.seconds_to_ready)
        yield figure("startup.ready_ms", statistics.median(agent_times) * 1000, "ms",
                     baseline=statistics.median(bare_times) * 1000)
        yield figure("startup.restart_ready_ms", statistics.median(restart_times) * 1000, "ms",
                     baseline=statistics.median(bare_times) * 1000)

        command, nothing = [], []
        for _ in range(STARTS):
            nothing.append(_seconds([sys.executable, "-c", "pass"]))
            command.append(_seconds([sys.executable, "-m", "agent.cli", "users", "list", "--data-dir", str(work / "data-0")]))
        yield figure("startup.cli_users_list_ms", statistics.median(command) * 1000, "ms", baseline=statistics.median(nothing) * 1000)


def _seconds(args: list[str]) -> float:
    """Wall time of one run to its exit (which must be 0), from the repository's root as the agent runs."""
    started = time.perf_counter()
    subprocess.run(args, check=True, cwd=Path(__file__).resolve().parent.parent, capture_output=True)
    return time.perf_counter() - started


def run() -> list[dict[str, Any]]:
    return list(figures())
