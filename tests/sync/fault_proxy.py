"""A fault-injecting HTTP proxy on 127.0.0.1, between the cart's sync worker and the FHIR server
(tests/sync/fhir_server.py), for the sync's fault tests and its bench.

It runs an asyncio loop of its own in a daemon thread, reads each HTTP/1.1 request the client
sends (head, then a `Content-Length` body: what aiohttp sends for a bytes body; no chunked
requests, no pipelining, as the worker never does either) and forwards it over a connection of
its own to the server; answers are copied back byte for byte. Before forwarding a request it
draws what that request meets from a seeded schedule (or takes it from a script):

| fault         | what the client sees                                                                  |
|---------------|---------------------------------------------------------------------------------------|
| `pass`        | nothing: the request and its answer go through                                        |
| `drop`        | the connection closed before the request was forwarded (the server never saw it)      |
| `cut_after`   | the request forwarded, the connection closed as the answer arrives: **the server did  |
|               | the work, the client does not know** (the nastiest case for idempotence)              |
| `delay`       | the request held 0.2–3 s before it is forwarded (forwarded even if the client gave up |
|               | meanwhile: a late copy reaching the server while the retry is on its way)             |
| `slow_answer` | the request forwarded, its answer held 0.2–3 s (the server has done the work)         |
| `cut_body`    | half of the request's body forwarded, then both connections closed                    |
| `busy`        | the proxy answers 503 or 429 itself, with `Retry-After: 1`                            |
| `garbage`     | the proxy answers bytes that are not HTTP, then closes                                |
| `portal`      | the proxy answers `200 OK` with an HTML page (a captive portal, a misrouted gateway)  |
| `mojibake`    | the proxy answers `502` with a page said UTF-8 but written in Windows-1252            |
| `hang`        | the request read and never answered (until the client gives up)                       |

    with fhir_server(tmp_path) as server, fault_proxy(server.port, seed=1234) as proxy:
        proxy.faults(drop=0.1, cut_after=0.1, delay=0.05)  # the rest pass; proxy.clean() to stop
        ...point the cart's [sync] fhir_base_url at proxy.base_url (same path as the server's)
        proxy.stats   # bytes each way, requests, and how many met each fault

`proxy.held_requests` and `proxy.held_answers` name the methods of the requests held right now by
a `delay` (the server has not seen them yet) and of the answers held by a `slow_answer` (the server
has done the work, the client does not know yet): the moments to kill a client.

The schedule is `random.Random(seed)`, one draw per request in the order they arrive, so a run
is replayed by its seed: it is printed when the proxy starts and by `describe()` (put it in
assertion messages). `methods=("PUT",)` limits the faults to some methods; the others pass.

`shape(kbit_s, rtt_ms)` makes it a slow link for the bench: each direction carries at most
`kbit_s` (shared by all connections, as one uplink is), every byte arrives `rtt_ms / 2` after it
left (pipelined, as on a real path), and a new connection costs one round trip. With
`proxy.recorded = []`, every request forwarded whole is kept there as it went (head and body), so
that a bench can send the very same requests again without the cart.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

FAULTS = ("pass", "drop", "cut_after", "delay", "slow_answer", "cut_body", "busy", "garbage", "portal", "mojibake", "hang")
CHUNK = 64 * 1024
PIECE = 4096  # what the shaper sends at once: small enough that latency and rate stay smooth


@dataclass
class Schedule:
    """What each request meets: `weights` per fault (what is left up to 1 passes), drawn in turn."""

    seed: int
    weights: dict[str, float] = field(default_factory=dict)
    methods: tuple[str, ...] | None = None  # only these methods meet faults
    script: list[str] = field(default_factory=list)  # the next requests' faults, in order, before any draw
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        unknown = (set(self.weights) | set(self.script)) - set(FAULTS)
        if unknown or sum(self.weights.values()) > 1:
            raise ValueError(f"faults {sorted(unknown)} unknown, or weights above 1: {self.weights}")
        self.rng = random.Random(self.seed)

    def draw(self, method: str) -> tuple[str, float]:
        """(the fault, a number in [0, 1) that sizes it, e.g. how long a delay is)."""
        roll, size = self.rng.random(), self.rng.random()  # both drawn always: one request, two draws
        if self.methods is not None and method not in self.methods:
            return "pass", size
        if self.script:
            return self.script.pop(0), size
        for fault, weight in self.weights.items():
            if roll < weight:
                return fault, size
            roll -= weight
        return "pass", size


class Link:
    """One direction of the path: at most `bits_per_s` (0: no limit) and `delay_s` one way."""

    def __init__(self, bits_per_s: float = 0, delay_s: float = 0) -> None:
        self.bits_per_s, self.delay_s = bits_per_s, delay_s
        self.free_at = 0.0  # when the link has sent what it was given (loop time)

    async def carry(self, data: bytes, writer: asyncio.StreamWriter) -> None:
        if not self.bits_per_s and not self.delay_s:
            if not writer.is_closing():
                writer.write(data)
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
            return
        loop = asyncio.get_running_loop()
        for start in range(0, len(data), PIECE):
            piece = data[start:start + PIECE]
            now = loop.time()
            self.free_at = max(self.free_at, now) + (len(piece) * 8 / self.bits_per_s if self.bits_per_s else 0)
            await asyncio.sleep(self.free_at - now)  # the link is busy sending it this long
            loop.call_later(self.delay_s, _write, writer, piece)  # and it arrives this long after

    async def close(self, writer: asyncio.StreamWriter) -> None:
        """Closed once what was sent before has arrived."""
        await asyncio.sleep(max(0.0, self.free_at - asyncio.get_running_loop().time()) + self.delay_s)
        _abort(writer)


def _write(writer: asyncio.StreamWriter, data: bytes) -> None:
    if not writer.is_closing():
        writer.write(data)


def _abort(writer: asyncio.StreamWriter | None) -> None:
    if writer is not None and not writer.is_closing():
        writer.transport.abort()  # a cut, not a polite close: what a dead link looks like


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            raise ValueError("chunked requests are not supported by the fault proxy")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _answer(status: str, body: bytes, *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers, "", ""]
    return "\r\n".join(lines).encode() + body


BUSY = (_answer("503 Service Unavailable", b"", "Retry-After: 1", "Connection: close"),
        _answer("429 Too Many Requests", b"", "Retry-After: 1", "Connection: close"))
GARBAGE = b"\x00\xffSSH-2.0-not-http\r\n\x13\x37" * 8
PORTAL = _answer("200 OK", "<html><body>Wi-Fi de l'EHPAD : acceptez les conditions</body></html>".encode(),
                 "Content-Type: text/html; charset=utf-8", "Connection: close")
MOJIBAKE = _answer("502 Bad Gateway", "<html><body>Passerelle indisponible – réessayez</body></html>".encode("cp1252"),
                   "Content-Type: text/html; charset=utf-8", "Connection: close")


class FaultProxy:
    """See the module's docstring. Every method may be called from the test's thread."""

    def __init__(self, upstream_port: int, seed: int | None = None, base_path: str = "/fhir") -> None:
        self.upstream_port, self.base_path = upstream_port, base_path
        self.seed = seed if seed is not None else int(os.environ.get("FAULT_SEED") or random.SystemRandom().randrange(10**6))
        self.schedule = Schedule(self.seed)
        self.up, self.down = Link(), Link()
        self.rtt_s = 0.0
        self.stats: Counter[str] = Counter()  # bytes_up, bytes_down, requests, connections, and each fault met
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="fault proxy")
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._held_requests: dict[int, str] = {}  # by connection, the method of the request a delay holds
        self._held_answers: dict[int, str] = {}  # by connection, the method of the request whose answer is held
        self._stopping = False
        self._answer_hold_s: float | None = None
        self.recorded: list[bytes] | None = None  # a list: every request forwarded whole is kept there (head and body)

    @property
    def held_requests(self) -> list[str]:
        """The methods of the requests held before the server right now (`delay`)."""
        return list(self._held_requests.values())

    @property
    def held_answers(self) -> list[str]:
        """The methods of the requests the server answered whose answers are held right now (`slow_answer`)."""
        return list(self._held_answers.values())

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    def describe(self) -> str:
        return f"fault proxy seed={self.seed} (FAULT_SEED={self.seed} replays it), {dict(self.stats)}"

    # --- what the test switches -----------------------------------------------------------

    def faults(self, seed: int | None = None, methods: tuple[str, ...] | None = None, script: tuple[str, ...] = (),
               answer_hold_s: float | None = None, **weights: float) -> None:
        """From now on each request meets a fault with these probabilities (the schedule restarts
        from `seed`, the proxy's own by default); `script`: the faults of the next requests first,
        one each, e.g. `faults(script=("cut_after",), methods=("PUT",))` cuts the next PUT only;
        `answer_hold_s`: how long a slow_answer holds its answer instead of 0.2–3 s drawn (a test
        that acts while it is held must not miss a short one)."""
        self.schedule = Schedule(self.seed if seed is None else seed, weights, methods, list(script))
        self._answer_hold_s = answer_hold_s

    def clean(self) -> None:
        self.faults()

    def shape(self, kbit_s: float = 0, rtt_ms: float = 0) -> None:
        """A slow link each way (0, 0: loopback again)."""
        self.rtt_s = rtt_ms / 1000
        self.up, self.down = Link(kbit_s * 1000, self.rtt_s / 2), Link(kbit_s * 1000, self.rtt_s / 2)

    def reset_stats(self) -> None:
        self.stats.clear()

    # --- running ----------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop)
        self._server = started.result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        print(f"fault proxy on 127.0.0.1:{self.port} -> 127.0.0.1:{self.upstream_port}, seed={self.seed}", file=sys.stderr, flush=True)
        return self

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._stopping = True
            self._server.close()
            for writer in list(self._writers):
                _abort(writer)
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self._server is not None:
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    # --- one client connection ----------------------------------------------------------------

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.CancelledError):  # stop(): the connection simply ends
            await self._connection(client_r, client_w)

    async def _connection(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.stats["connections"] += 1
        self._writers.add(client_w)
        server_w: asyncio.StreamWriter | None = None
        answers: asyncio.Task[None] | None = None
        cut, answered = asyncio.Event(), asyncio.Event()
        hold: list[Any] = [0.0, ""]  # how long the next answer is held (slow_answer), and its request's method
        me = id(client_w)
        try:
            if self.rtt_s:
                await asyncio.sleep(self.rtt_s)  # the TCP handshake's round trip
            while True:
                try:
                    head = await client_r.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return  # the client closed (or sent what is not HTTP)
                length = _content_length(head)
                method = head.split(b" ", 1)[0].decode("ascii", "replace")
                fault, size = self.schedule.draw(method)
                self.stats["requests"] += 1
                self.stats[fault] += 1
                if fault == "drop":
                    return
                if fault in ("busy", "garbage", "portal", "mojibake", "hang"):
                    await self._answer_itself(fault, size, length, client_r, client_w)
                    return
                if fault == "delay":
                    self._held_requests[me] = method
                    await asyncio.sleep(0.2 + 2.8 * size)
                    self._held_requests.pop(me, None)
                hold[:] = [(self._answer_hold_s or 0.2 + 2.8 * size) if fault == "slow_answer" else 0.0, method]
                if server_w is None:
                    server_r, server_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
                    self._writers.add(server_w)
                    answers = asyncio.get_running_loop().create_task(self._answers(server_r, client_w, cut, answered, hold))
                answered.clear()
                whole = await self._forward(head, length, client_r, server_w, half=fault == "cut_body")
                if not whole:
                    return
                if fault == "cut_after":
                    cut.set()  # the answer's first byte closes both (_answers)
        finally:
            if answers is not None and not answered.is_set() and not cut.is_set() and not self._stopping:
                # a request forwarded whole whose client left (a late copy): let the server finish it
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(answered.wait(), 10)
            if answers is not None:
                answers.cancel()
            self._held_requests.pop(me, None)
            self._held_answers.pop(me, None)
            for writer in (client_w, server_w):
                if writer is not None:
                    _abort(writer)
                    self._writers.discard(writer)

    async def _answer_itself(self, fault: str, size: float, length: int, client_r: asyncio.StreamReader,
                             client_w: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await client_r.readexactly(length)
        if fault == "hang":
            await client_r.read()  # nothing, until the client gives up and closes
            return
        answer = {"busy": BUSY[int(size * len(BUSY))], "garbage": GARBAGE, "portal": PORTAL, "mojibake": MOJIBAKE}[fault]
        self.stats["bytes_down"] += len(answer)
        await self.down.carry(answer, client_w)
        await self.down.close(client_w)

    async def _forward(self, head: bytes, length: int, client_r: asyncio.StreamReader, server_w: asyncio.StreamWriter,
                       half: bool) -> bool:
        """The request to the server; False when it did not go whole (`half`: cut in the middle of
        its body; or the client left before sending it all)."""
        upto = length // 2 if half else length
        await self._carry_up(head, server_w)
        request = [head]
        sent = 0
        while sent < upto:
            chunk = await client_r.read(min(CHUNK, upto - sent))
            if not chunk:
                return False
            await self._carry_up(chunk, server_w)
            request.append(chunk)
            sent += len(chunk)
        if half:
            await self.up.close(server_w)
            return False
        if self.recorded is not None:
            self.recorded.append(b"".join(request))
        return True

    async def _carry_up(self, data: bytes, server_w: asyncio.StreamWriter) -> None:
        self.stats["bytes_up"] += len(data)
        await self.up.carry(data, server_w)

    async def _answers(self, server_r: asyncio.StreamReader, client_w: asyncio.StreamWriter, cut: asyncio.Event,
                       answered: asyncio.Event, hold: list[Any]) -> None:
        """The server's bytes back to the client until either side closes; once `cut` is set, the
        first byte of the answer closes the client's connection instead (the work is done); an
        answer is first held `hold[0]` seconds when set."""
        me = id(client_w)
        while True:
            try:
                data = await server_r.read(CHUNK)
            except ConnectionError:
                data = b""
            answered.set()
            if not data:
                await self.down.close(client_w)
                return
            if cut.is_set():
                _abort(client_w)
                return
            if hold[0]:
                self._held_answers[me] = hold[1]
                await asyncio.sleep(hold[0])
                hold[0] = 0.0
                self._held_answers.pop(me, None)
            self.stats["bytes_down"] += len(data)
            await self.down.carry(data, client_w)


@contextlib.contextmanager
def fault_proxy(upstream_port: int, seed: int | None = None, base_path: str = "/fhir") -> Iterator[FaultProxy]:
    """A FaultProxy in front of 127.0.0.1:`upstream_port`, clean until told otherwise, stopped on exit."""
    proxy = FaultProxy(upstream_port, seed, base_path).start()
    try:
        yield proxy
    finally:
        proxy.stop()
