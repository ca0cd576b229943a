"""What the benchmarks share: spawning the agent and the bare baseline, waiting for their first 200,
figures, percentiles and a keep-alive latency client."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from tests.live import free_port

ROOT = Path(__file__).resolve().parent.parent
BARE_SERVER = Path(__file__).resolve().parent / "bare_server.py"


def figure(name: str, value: float, unit: str, baseline: float | None = None) -> dict[str, Any]:
    """One figure; with a baseline, also the ratio value/baseline (same run, same machine)."""
    out: dict[str, Any] = {"name": name, "value": _round(value), "unit": unit}
    if baseline is not None:
        out["baseline"] = _round(baseline)
        out["ratio"] = round(value / baseline, 2) if baseline else None
    return out


def _round(x: float) -> float:
    return float(f"{x:.4g}")


def rss_mib(pid: int) -> float:
    """Resident set size of a process, in MiB."""
    return psutil.Process(pid).memory_info().rss / (1024 * 1024)


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A temporary directory on the default temp filesystem (a real disk here, as on the cart),
    removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=f"telecart-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def agent_args(data_dir: Path, port: int) -> list[str]:
    """Exactly what tests.live.LiveAgent runs."""
    return [sys.executable, "-m", "agent.cli", "run", "--simulate", "--data-dir", str(data_dir), "--port", str(port)]


def bare_args(port: int, bodies: Path | None = None) -> list[str]:
    return [sys.executable, str(BARE_SERVER), str(port)] + ([str(bodies)] if bodies else [])


def _healthz_ok(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@dataclass
class Spawned:
    proc: subprocess.Popen[bytes]
    port: int
    seconds_to_ready: float
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def spawn_until_ready(args: list[str], port: int, log_path: Path, timeout: float = 30.0, poll: float = 0.002) -> Spawned:
    """Start `args` and poll /healthz every `poll` seconds; the time is from just before the spawn
    to the first 200 (so it includes the interpreter's start and every import)."""
    log = open(log_path, "ab")
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=log, stderr=log, cwd=ROOT, env=os.environ.copy())
    log.close()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if _healthz_ok(port):
            return Spawned(proc, port, time.perf_counter() - started, log_path)
        if proc.poll() is not None:
            raise RuntimeError(f"{args[1:3]} exited with {proc.returncode}: {log_path.read_text(errors='replace')[-2000:]}")
        time.sleep(poll)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"{args[1:3]} not ready after {timeout}s: {log_path.read_text(errors='replace')[-2000:]}")


def start_bare(work: Path, bodies: dict[str, Any] | None = None) -> Spawned:
    port = free_port()
    bodies_path = None
    if bodies is not None:
        bodies_path = work / f"bodies-{port}.json"
        bodies_path.write_text(json.dumps(bodies, ensure_ascii=False), encoding="utf-8")
    return spawn_until_ready(bare_args(port, bodies_path), port, work / f"bare-{port}.log")


# --- latency ---------------------------------------------------------------------------------


@dataclass
class Target:
    """One URL to hit, with the headers a logged-in kiosk would send."""

    label: str
    url: str
    headers: dict[str, str]


async def _timed_gets(session: Any, target: Target, count: int, out: list[float]) -> None:
    for _ in range(count):
        t0 = time.perf_counter()
        async with session.get(target.url, headers=target.headers) as reply:
            await reply.read()
            if reply.status != 200:
                raise RuntimeError(f"{target.label}: GET {target.url} answered {reply.status}: {(await reply.text())[:300]}")
        out.append(time.perf_counter() - t0)


async def _measure(targets: Sequence[Target], requests: int, warmup: int, rounds: int) -> dict[str, list[float]]:
    import aiohttp

    samples: dict[str, list[float]] = {t.label: [] for t in targets}
    # One keep-alive connection per target, as a kiosk's browser tab would keep.
    sessions = {t.label: aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1, force_close=False)) for t in targets}
    try:
        for t in targets:
            await _timed_gets(sessions[t.label], t, warmup, [])
        # Interleave the targets in blocks, alternating which goes first, so that a noisy
        # neighbour or a CPU frequency change hits both alike.
        per_round = max(1, requests // rounds)
        for r in range(rounds):
            order = targets if r % 2 == 0 else list(reversed(targets))
            for t in order:
                await _timed_gets(sessions[t.label], t, per_round, samples[t.label])
    finally:
        for s in sessions.values():
            await s.close()
    return samples


def measure_latency(targets: Sequence[Target], requests: int = 2000, warmup: int = 200, rounds: int = 10) -> dict[str, list[float]]:
    """Sequential GETs (one in flight at a time) per target; seconds per request, body read."""
    return asyncio.run(_measure(targets, requests, warmup, rounds))
