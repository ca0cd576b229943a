"""Real servers on loopback standing in for the SMTP relay and the SMS gateway, a real Store, and
a clock the tests move forward."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from agent.store import Store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Clock:
    """Wall-clock time plus an offset the test advances: retries come due without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class Inbox:
    """aiosmtpd handler: keeps what it accepts; answers 550 for the addresses in `refuse`."""

    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # On the wire lines end in CRLF; a mail client shows them as lines, as Python does with \n.
        message = BytesParser(policy=default).parsebytes(envelope.content.replace(b"\r\n", b"\n"))
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def accept_only(login: str, password: str) -> Any:
    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data == (login.encode(), password.encode())
        # handled=False: let aiosmtpd answer 535 itself. Its default (handled=True) means "I have
        # already replied", so a refusal would leave the client waiting for an answer until its timeout.
        return AuthResult(success=ok, handled=False)

    return authenticator


@contextlib.contextmanager
def smtp_server(inbox: Inbox, **smtp_options: Any) -> Iterator[int]:
    """An SMTP relay on 127.0.0.1 (its own thread and loop); yields its port."""
    # server_hostname: without it aiosmtpd asks socket.getfqdn(), slow where DNS is unreachable.
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), server_hostname="relay.test",
                            ready_timeout=5.0, **smtp_options)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, made by the openssl command."""
    cert, key = directory / "relay.pem", directory / "relay.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )
    return cert, key


@dataclass
class Gateway:
    """An SMS gateway: records each request's JSON and Authorization header; answers `statuses` in
    turn (the last one repeats), after `delay` seconds."""

    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    requests: list[tuple[Any, str | None]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((await request.json(), request.headers.get("Authorization")))
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.statuses[min(len(self.requests), len(self.statuses)) - 1]
        return web.json_response({"ok": 200 <= status < 300}, status=status)

    @property
    def texts(self) -> list[str]:
        return [body["text"] for body, _ in self.requests]


@contextlib.asynccontextmanager
async def gateway_server(gateway: Gateway, port: int | None = None) -> AsyncIterator[str]:
    """Serve `gateway` on 127.0.0.1 (on `port` when given, e.g. to bring it back); yields its URL."""
    app = web.Application()
    app.router.add_post("/sms", gateway.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port or 0, reuse_address=True)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/sms"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def opened_store(data_dir: Path) -> AsyncIterator[Store]:
    store = Store(data_dir)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def eventually(check: Any, timeout: float = 3.0) -> Any:
    """Await `check()` until it returns something truthy (the dispatcher runs beside the test)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.02)


def run_async(coro: Any) -> Any:
    """asyncio.run on a thread of its own: on a pytest worker that also ran the browser tests,
    Playwright's sync API keeps an event loop running in the main thread."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
