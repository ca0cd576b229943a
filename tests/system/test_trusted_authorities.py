"""The agent reads the system's certificate authorities from their hashed directory, when a server
names one, instead of parsing the whole bundle at each TLS context (agent/cli.py): a server signed
by a trusted authority is still trusted, any other still refused, and an operator's own bundle is
kept. Run in a child process, whose environment OpenSSL reads."""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sync.mtls import certificate

CHILD = """
import asyncio, os, sys
import aiohttp
from agent.cli import _trusted_authorities_read_when_needed
_trusted_authorities_read_when_needed()
print(os.environ.get("SSL_CERT_FILE"))
async def fetch(url):
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as reply:
            return str(reply.status)
    except aiohttp.ClientConnectorCertificateError:
        return "refused"
async def main():
    for url in sys.argv[1:]:
        print(await fetch(url))
asyncio.run(main())
"""


@contextlib.contextmanager
def _serving(stem: Path) -> Iterator[str]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(stem.with_suffix(".pem"), stem.with_suffix(".key"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Path, Path, str, str]]:
    """(hashed directory trusting authority A, a bundle of authority B, A's server, B's server)."""
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command (apt-get install openssl)")
    trusted, other = certificate(tmp_path / "a", "Autorité A"), certificate(tmp_path / "b", "Autorité B")
    certificate(tmp_path / "server-a", "127.0.0.1", trusted)
    certificate(tmp_path / "server-b", "127.0.0.1", other)
    directory = tmp_path / "certs"
    directory.mkdir()
    shutil.copy(tmp_path / "a.pem", directory / "a.pem")
    subprocess.run(["openssl", "rehash", str(directory)], check=True, capture_output=True)
    with _serving(tmp_path / "server-a") as with_a, _serving(tmp_path / "server-b") as with_b:
        yield directory, tmp_path / "b.pem", with_a, with_b


def _child(env: dict[str, str], *urls: str) -> list[str]:
    run = subprocess.run([sys.executable, "-c", CHILD, *urls], env=env, capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 0, run.stderr
    return run.stdout.split()


def test_the_system_bundle_is_left_out_and_its_authorities_still_trusted(servers: tuple[Path, Path, str, str]) -> None:
    directory, _, with_a, with_b = servers
    env = {k: v for k, v in os.environ.items() if k != "SSL_CERT_FILE"} | {"SSL_CERT_DIR": str(directory)}
    assert _child(env, with_a, with_b) == [os.devnull, "200", "refused"]


def test_an_operators_own_bundle_is_kept(servers: tuple[Path, Path, str, str]) -> None:
    directory, bundle_b, with_a, with_b = servers
    env = dict(os.environ) | {"SSL_CERT_DIR": str(directory), "SSL_CERT_FILE": str(bundle_b)}
    assert _child(env, with_a, with_b) == [str(bundle_b), "200", "200"]
