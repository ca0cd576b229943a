"""Latency of authenticated reads, sequential over one keep-alive connection, against a bare aiohttp
handler answering the very same JSON body (serialised per request) on the same machine:

- GET /api/v1/session (session lookup in SQLite, no write except the periodic idle-clock touch);
- GET /api/v1/patients?limit=20 with 20 patients (a read that is audited: one write transaction
  with an audit record, committed with synchronous=FULL, per request).

Also the agent's RSS after this load against the bare server's, to catch growth per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bench._common import Target, figure, measure_latency, percentile, rss_mib, scratch_dir, start_bare
from tests.live import LiveAgent, free_port

REQUESTS = 2000
WARMUP = 200
PATIENTS = 20

_FIRST_NAMES = ["Marcel", "Jeanne", "Louise", "René", "Odette", "André", "Simone", "Lucien", "Germaine", "Henri"]


def _add_patients(agent: LiveAgent, client: Any, count: int) -> None:
    for i in range(count):
        reply = client.post(f"{agent.url}/api/v1/patients", json={
            "birth_name": f"DUPONT-{chr(65 + i % 26)}", "first_names": [_FIRST_NAMES[i % len(_FIRST_NAMES)]],
            "birth_date": f"19{30 + i % 20}-0{1 + i % 9}-1{i % 9}", "sex": "F" if i % 2 else "M",
        })
        if reply.status_code != 201:
            raise RuntimeError(f"creating patient {i}: {reply.status_code} {reply.text[:300]}")


def figures() -> Iterator[dict[str, Any]]:
    with scratch_dir("latency") as work:
        data_dir = work / "data"
        data_dir.mkdir()
        agent = LiveAgent(data_dir, free_port()).start()
        bare = None
        try:
            client = agent.login(agent.add_account())
            _add_patients(agent, client, PATIENTS)
            token = client.cookies.get("telecart_session")
            headers = {"Cookie": f"telecart_session={token}", "X-CSRF-Token": client.headers["X-CSRF-Token"],
                       "Accept": "application/json"}
            paths = {"session_get": "/api/v1/session", "patients_list20": f"/api/v1/patients?limit={PATIENTS}"}
            bodies = {}
            for path in paths.values():
                reply = client.get(agent.url + path)
                reply.raise_for_status()
                bodies[path.split("?")[0]] = reply.json()
            assert len(bodies["/api/v1/patients"]["items"]) == PATIENTS
            bare = start_bare(work, bodies)

            for label, path in paths.items():
                targets = [Target("agent", agent.url + path, headers), Target("bare", bare.url + path, headers)]
                samples = measure_latency(targets, REQUESTS, WARMUP)
                a, b = samples["agent"], samples["bare"]
                for p in (50, 99):
                    yield figure(f"latency.{label}.p{p}_ms", percentile(a, p) * 1000, "ms", baseline=percentile(b, p) * 1000)

            assert agent.proc is not None
            yield figure("memory.rss_after_load_mib", rss_mib(agent.proc.pid), "MiB", baseline=rss_mib(bare.proc.pid))
        finally:
            if bare is not None:
                bare.stop()
            agent.stop()


def run() -> list[dict[str, Any]]:
    return list(figures())
