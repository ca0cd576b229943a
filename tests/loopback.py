"""Real servers on loopback for tests that drive a live agent (a separate process): an SMTP relay
(aiosmtpd, from tests/notify/servers.py) and an HTTP SMS gateway, each in its own thread."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.notify.servers import Inbox, smtp_server

__all__ = ["Inbox", "SmsGateway", "eventually", "link_in", "sms_gateway", "smtp_server"]


@dataclass
class SmsGateway:
    """What the gateway received: one {"to", "text"} per SMS, and the Authorization headers."""

    texts: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    status: int = 200  # what it answers; set to 503 to play a gateway in trouble


@contextlib.contextmanager
def sms_gateway(gateway: SmsGateway) -> Iterator[str]:
    """An HTTP SMS gateway on 127.0.0.1; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if gateway.status == 200:
                gateway.texts.append(json.loads(body))
                gateway.authorizations.append(self.headers.get("Authorization"))
            self.send_response(gateway.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/send"
    finally:
        server.shutdown()
        server.server_close()


def eventually(check: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    """The first truthy result of `check`, polled until `timeout` (messages leave a queue); a
    failure names `what` was awaited and the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or check}: still not so after {timeout} s (last: {result!r})")
        time.sleep(0.05)


_LINK = re.compile(r"https?://\S+/s/[\w-]+/[\w.-]+")


def link_in(text: str) -> str:
    found = _LINK.search(text)
    assert found, f"no invitation link in: {text!r}"
    return found.group(0)
