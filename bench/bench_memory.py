"""Idle resident memory (RSS, MiB) of the agent after start-up, a login and a few requests,
against the bare aiohttp server after a few requests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import requests

from bench._common import figure, rss_mib, scratch_dir, start_bare
from tests.live import LiveAgent, free_port

SETTLE_SECONDS = 1.0


def figures() -> Iterator[dict[str, Any]]:
    with scratch_dir("memory") as work:
        data_dir = work / "data"
        data_dir.mkdir()
        agent = LiveAgent(data_dir, free_port()).start()
        bare = start_bare(work)
        try:
            client = agent.login(agent.add_account())
            for path in ("/healthz", "/api/v1/session", "/api/v1/patients?limit=20", "/api/v1/dossiers", "/"):
                reply = client.get(agent.url + path)
                reply.raise_for_status()
            bare_client = requests.Session()
            for _ in range(5):
                bare_client.get(bare.url + "/healthz").raise_for_status()
            time.sleep(SETTLE_SECONDS)
            assert agent.proc is not None
            yield figure("memory.idle_rss_mib", rss_mib(agent.proc.pid), "MiB", baseline=rss_mib(bare.proc.pid))
        finally:
            bare.stop()
            agent.stop()


def run() -> list[dict[str, Any]]:
    return list(figures())
