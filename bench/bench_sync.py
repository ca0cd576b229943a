"""The sync to the regional server (cloud_sync/): the real SyncWorker on a real cart store (made by
the domain functions, as the API makes it: tests/sync/cart_dossiers.py `make_dossiers`) sending to a
real FHIR server (sekmet on loopback, tests/sync/fhir_server.py) through the fault proxy
(tests/sync/fault_proxy.py), which counts the bytes each way and, for the slow link, shapes them.

- typical: one typical dossier (the fiche: resident, teleconsultation, consent; 5 vitals; 3 photos
  of about 250 KB, JPEG; 2 PDFs of about 100 KB and 500 KB). Bytes on the wire (requests and
  answers, HTTP heads included) against the content's size: the documents' bytes (the goal:
  at most 1.4 times). Time on loopback from the worker's start to an empty queue, median of
  `TYPICAL_ROUNDS` carts, against the same requests (recorded at the proxy) sent again to a fresh
  server by a bare aiohttp client, one after the other: the floor of HTTP and the server.
- queue_1000: 1,000 small dossiers (resident, teleconsultation, consent, 3 vitals, one photo or
  PDF of 6–15 KB) drained on loopback (goal: under 60 s), against the same floor.
- slow_link: one typical dossier through the proxy shaped to 256 kbit/s each way and 300 ms round
  trip, with the worker's default timeout; against the time the content alone takes at 256 kbit/s.

No timing is asserted; a sync that ends with an entry set aside is an error, not a figure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from agent.config import SyncConfig
from agent.store import Store
from agent.store.blobs import BlobStore
from agent.store.database import DATABASE_NAME
from bench._common import figure, scratch_dir
from cloud_sync.worker import SyncWorker
from tests.sync.cart_dossiers import jpeg, make_dossiers, pdf
from tests.sync.fault_proxy import FaultProxy, fault_proxy
from tests.sync.fhir_server import fhir_server

TYPICAL_ROUNDS = 5
QUEUE_DOSSIERS = 1000
LINK_KBIT_S, LINK_RTT_MS = 256, 300
WIRE_GOAL, QUEUE_GOAL_S = 1.4, 60


def _progress(text: str) -> None:
    print(f"#   sync: {text}", file=sys.stderr, flush=True)


def typical_documents(i: int) -> list[tuple[bytes, str, str]]:
    """3 photos of about 250 KB and 2 PDFs of about 100 KB and 500 KB: (bytes, name, kind)."""
    photos = [(jpeg(660, 495, seed=i * 10 + n), f"photo-{n}.jpg", "photo") for n in range(3)]
    return photos + [(pdf(100_000, seed=i * 10 + 3), "compte-rendu.pdf", "compte_rendu"),
                     (pdf(500_000, seed=i * 10 + 4), "echographie.pdf", "resultat")]


def _queue(data_dir: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(data_dir / DATABASE_NAME, timeout=10)) as db:
        return dict(db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())


def _pending(watch: sqlite3.Connection) -> bool:
    """Whether an entry still waits: one look in the (state, id) index. The watch runs on the
    worker's own event loop every 10 ms, so it must cost next to nothing: counting the whole queue
    (a new connection and a GROUP BY over 9,000 entries, 1.2-1.6 ms) took about an eighth of the
    loop from the worker and counted against the cart."""
    return bool(watch.execute("SELECT EXISTS (SELECT 1 FROM outbox WHERE state = 'pending')").fetchall()[0][0])


async def _drain(data_dir: Path, base_url: str, **sync: Any) -> tuple[float, dict[str, int]]:
    """The real SyncWorker on the cart's store, from its start to an empty queue: (seconds, the queue by state)."""
    config = SyncConfig(**{"fhir_base_url": base_url, "poll_seconds": 0.05, "max_backoff_seconds": 1.0, **sync})
    store = Store(data_dir)
    await store.open()
    try:
        async with aiohttp.ClientSession() as http:
            worker = SyncWorker(store, BlobStore(data_dir / "blobs"), config, http)
            with contextlib.closing(sqlite3.connect(data_dir / DATABASE_NAME, timeout=10)) as watch:
                started = time.perf_counter()
                task = asyncio.get_running_loop().create_task(worker.run())
                try:
                    while _pending(watch):
                        if task.done():
                            task.result()
                        await asyncio.sleep(0.01)
                    elapsed = time.perf_counter() - started
                finally:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
    finally:
        await store.close()
    counts = _queue(data_dir)
    if counts.get("conflict") or counts.get("refused"):
        raise RuntimeError(f"the sync set entries aside: {counts}")
    return elapsed, counts


def drain(data_dir: Path, base_url: str, **sync: Any) -> tuple[float, dict[str, int]]:
    return asyncio.run(_drain(data_dir, base_url, **sync))


def _as_sent_again(raw: bytes) -> tuple[str, str, dict[str, str], bytes]:
    """A recorded request as (method, path, headers, body) to send to a fresh server. An update of
    a known resource (`PUT Type/<id>` with If-Match) names an id the fresh server does not have: it
    goes as the conditional update on the resource's cart identifier instead (the same write,
    found by the identifier rather than by its id and version)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])
               if k.strip().lower() in ("content-type", "accept", "authorization")}
    if method == "PUT" and any(line.lower().startswith("if-match:") for line in lines[1:]):
        resource = json.loads(body)
        found = resource["identifier"]
        first = found[0] if isinstance(found, list) else found
        by = urlencode({"identifier": f"{first['system']}|{first['value']}"})
        path = f"{path.rsplit('/', 2)[0]}/{resource['resourceType']}?{by}"
        body = json.dumps({k: v for k, v in resource.items() if k != "id"}).encode()  # the first server's id
    return method, path, headers, body


async def _replay(recorded: list[bytes], port: int) -> tuple[float, int]:
    """The recorded requests sent again, one after the other on one keep-alive connection, by a
    bare aiohttp client: (seconds, how many writes were not answered 2xx). A read by id (the
    worker's pulls) names the first server's id: the fresh server answers 404, a read all the same."""
    failed = 0
    requests = [_as_sent_again(raw) for raw in recorded]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as http:
        started = time.perf_counter()
        for method, path, headers, body in requests:
            async with http.request(method, f"http://127.0.0.1:{port}{path}", data=body, headers=headers) as reply:
                await reply.read()
                failed += method != "GET" and not 200 <= reply.status < 300
        return time.perf_counter() - started, failed


def replay_on_a_fresh_server(work: Path, *recorded: list[bytes]) -> list[float]:
    """The floor: the same requests to a fresh server (one for all rounds, warmed up by the first
    as the worker's server was), through a proxy as the worker's went; seconds per round."""
    with fhir_server(work) as server, fault_proxy(server.port) as proxy:
        rounds = [asyncio.run(_replay(requests, proxy.port)) for requests in recorded]
    failed = sum(f for _, f in rounds)
    if failed:
        raise RuntimeError(f"{failed} of the replayed requests were refused by a fresh server")
    return [seconds for seconds, _ in rounds]


def _wire(proxy: FaultProxy) -> dict[str, int]:
    return {"up": proxy.stats["bytes_up"], "down": proxy.stats["bytes_down"], "requests": proxy.stats["requests"],
            "connections": proxy.stats["connections"]}


# --- the figures ------------------------------------------------------------------------------------


def _typical(work: Path) -> Iterator[dict[str, Any]]:
    times, wires, contents, recorded_all = [], [], [], []
    with fhir_server(work / "fhir") as server, fault_proxy(server.port) as proxy:
        for n in range(TYPICAL_ROUNDS):
            cart = work / f"typical-{n}" / "data"
            made = make_dossiers(cart, 1, vitals=5, documents=typical_documents, name="TYPIQUE")
            proxy.reset_stats()
            proxy.recorded = []
            seconds, _ = drain(cart, proxy.base_url)
            times.append(seconds)
            wires.append(_wire(proxy))
            contents.append(made.content_bytes)
            recorded_all.append(proxy.recorded)
    floors = replay_on_a_fresh_server(work / "floor", *recorded_all)
    wire, content = wires[0], contents[0]
    detail = {"content_bytes": content, "up_bytes": wire["up"], "down_bytes": wire["down"], "requests": wire["requests"],
              "goal_ratio": WIRE_GOAL, "documents": "3 JPEG ~250 KB, PDF ~100 KB, PDF ~500 KB; 5 vitals"}
    yield figure("sync.typical.wire_bytes", wire["up"] + wire["down"], "B", baseline=content) | {"detail": detail}
    yield figure("sync.typical.upload_bytes", wire["up"], "B", baseline=content) | {"detail": {"goal_ratio": WIRE_GOAL}}
    yield figure("sync.typical.loopback_ms", statistics.median(times) * 1000, "ms", baseline=statistics.median(floors) * 1000) | {
        "detail": {"rounds": TYPICAL_ROUNDS, "all_ms": [round(t * 1000, 1) for t in times],
                   "floor_all_ms": [round(t * 1000, 1) for t in floors]}}


def _queue_1000(work: Path) -> Iterator[dict[str, Any]]:
    cart = work / "queue" / "data"
    started = time.perf_counter()
    made = make_dossiers(cart, QUEUE_DOSSIERS, name="FILE")
    _progress(f"{QUEUE_DOSSIERS} dossiers made in {time.perf_counter() - started:.1f} s; draining")
    with fhir_server(work / "fhir-queue") as server, fault_proxy(server.port) as proxy:
        proxy.recorded = []
        seconds, counts = drain(cart, proxy.base_url)
        wire, recorded = _wire(proxy), proxy.recorded
        held = {kind: server.count(kind) for kind in made.ids}
    if held != made.counts():
        raise RuntimeError(f"the server holds {held}, the cart made {made.counts()}")
    _progress(f"drained in {seconds:.1f} s; the same {len(recorded)} requests again on a fresh server")
    (floor,) = replay_on_a_fresh_server(work / "floor-queue", recorded)
    yield figure("sync.queue_1000.drain_s", seconds, "s", baseline=floor) | {"detail": {
        "dossiers": QUEUE_DOSSIERS, "entries": sum(counts.values()), "sent": counts.get("sent", 0), "requests": wire["requests"],
        "ms_per_request": round(seconds / wire["requests"] * 1000, 2), "floor_ms_per_request": round(floor / len(recorded) * 1000, 2),
        "up_bytes": wire["up"], "down_bytes": wire["down"], "goal_s": QUEUE_GOAL_S}}


def _slow_link(work: Path) -> Iterator[dict[str, Any]]:
    cart = work / "slow" / "data"
    made = make_dossiers(cart, 1, vitals=5, documents=typical_documents, name="LENT")
    with fhir_server(work / "fhir-slow") as server, fault_proxy(server.port) as proxy:
        proxy.shape(kbit_s=LINK_KBIT_S, rtt_ms=LINK_RTT_MS)
        seconds, _ = drain(cart, proxy.base_url)  # the worker's own timeout (60 s by default)
        wire = _wire(proxy)
    content_s = made.content_bytes * 8 / (LINK_KBIT_S * 1000)
    yield figure("sync.slow_link.typical_s", seconds, "s", baseline=content_s) | {"detail": {
        "kbit_s": LINK_KBIT_S, "rtt_ms": LINK_RTT_MS, "content_bytes": made.content_bytes, "up_bytes": wire["up"],
        "down_bytes": wire["down"], "requests": wire["requests"], "connections": wire["connections"],
        "upload_alone_s": round(wire["up"] * 8 / (LINK_KBIT_S * 1000), 1),
        "wire_at_link_rate_s": round((wire["up"] + wire["down"]) * 8 / (LINK_KBIT_S * 1000), 1)}}


def figures() -> Iterator[dict[str, Any]]:
    with scratch_dir("sync") as work:
        _progress("a typical dossier on loopback")
        yield from _typical(work)
        _progress(f"{QUEUE_DOSSIERS} dossiers on loopback")
        yield from _queue_1000(work)
        _progress(f"a typical dossier at {LINK_KBIT_S} kbit/s, {LINK_RTT_MS} ms round trip")
        yield from _slow_link(work)


def run() -> list[dict[str, Any]]:
    return list(figures())
