"""A web proxy on loopback, as an EHPAD's would be: HTTP/1.1 forward proxying of absolute-form
requests (`POST http://host/path`) and CONNECT tunnels for HTTPS, optionally behind Basic
proxy authentication (407 otherwise). It records each request line it served, which is how a test
sees the agent's traffic went through it. One thread of its own, its own event loop.

    with web_proxy() as proxy:
        ...agent configured with [network] http_proxy = proxy.url
        assert any(line.startswith("POST http://127.0.0.1") for line in proxy.requests)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class WebProxy:
    credentials: str | None = None  # "user:password" required, or none
    requests: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        auth = f"{self.credentials}@" if self.credentials else ""
        return f"http://{auth}127.0.0.1:{self.port}"

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()

    async def serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            head = await client_r.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            client_w.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers = [line for line in lines[1:] if line]
        if self.credentials:
            expected = "Basic " + base64.b64encode(self.credentials.encode()).decode()
            if not any(h.lower().startswith("proxy-authorization:") and h.split(":", 1)[1].strip() == expected for h in headers):
                client_w.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"ehpad\"\r\nContent-Length: 0\r\n\r\n")
                await client_w.drain()
                client_w.close()
                return
        self.requests.append(f"{method} {target}")
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            upstream_r, upstream_w = await asyncio.open_connection(host, int(port))
            client_w.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await client_w.drain()
        else:
            parts = urlsplit(target)
            upstream_r, upstream_w = await asyncio.open_connection(parts.hostname, parts.port or 80)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            kept = [h for h in headers if not h.lower().startswith(("proxy-authorization:", "proxy-connection:"))]
            upstream_w.write(f"{method} {path or '/'} {version}\r\n".encode("latin-1") + "\r\n".join(kept).encode("latin-1") + b"\r\n\r\n")
            await upstream_w.drain()
        await asyncio.gather(self._pipe(client_r, upstream_w), self._pipe(upstream_r, client_w))


@contextlib.contextmanager
def web_proxy(credentials: str | None = None) -> Iterator[WebProxy]:
    proxy = WebProxy(credentials)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    server: asyncio.Server | None = None

    async def start() -> None:
        nonlocal server
        server = await asyncio.start_server(proxy.serve, "127.0.0.1", 0)
        proxy.port = server.sockets[0].getsockname()[1]
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True)
    thread.start()
    assert started.wait(10), "the web proxy did not start"
    try:
        yield proxy
    finally:
        async def stop() -> None:
            assert server is not None
            server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
