"""The agent as systemd runs it: clean stop on SIGTERM, the sd_notify protocol (READY, WATCHDOG,
STOPPING) and logging to the journal."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
import requests

from tests.live import LiveAgent, free_port
from tests.notify.servers import run_async

JOURNAL_SOCKET = Path("/run/systemd/journal/socket")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_the_agent_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    agent = LiveAgent(tmp_path / "data", free_port())
    (tmp_path / "data").mkdir()
    agent.start()
    client = agent.login(agent.add_account())
    assert client.get(f"{agent.url}/api/v1/patients").status_code == 200
    assert agent.proc is not None
    started = time.monotonic()
    agent.proc.send_signal(sig)
    code = agent.proc.wait(timeout=10)
    took = time.monotonic() - started
    assert code == 0, agent.log()
    assert took < 5, f"stopping took {took:.1f}s"
    log = agent.log()
    assert "stopping on signal" in log
    assert "agent stopped" in log
    assert log.index("stopping on signal") < log.index("agent stopped")
    assert "Traceback" not in log, log
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{agent.url}/healthz", timeout=2)


def test_a_stop_tells_the_kiosks_open_connections_that_the_agent_is_going_away(tmp_path: Path) -> None:
    """The kiosk keeps a WebSocket (live vitals), an event stream (the card reader) and the camera's
    preview open; a stop, or a restart to apply new settings, closes the socket with « going away »
    and ends the streams, instead of leaving them to aiohttp's shutdown timeout: the page reconnects
    at once. (tests/system/test_open_streams.py: the mechanism, deterministically.)"""
    (tmp_path / "data").mkdir()
    agent = LiveAgent(tmp_path / "data", free_port()).start()
    cookies = agent.login(agent.add_account()).cookies.get_dict()

    async def stopped_under_them() -> tuple[int | None, bytes]:
        async with aiohttp.ClientSession(cookies=cookies) as session:
            socket = await session.ws_connect(agent.url.replace("http://", "ws://") + "/ws/vitals", headers={"Origin": agent.url})
            assert (await socket.receive_json(timeout=10))["type"] == "live"
            stream = await session.get(f"{agent.url}/api/v1/card/events")
            first = await stream.content.readuntil(b"\n\n")
            preview = await session.get(f"{agent.url}/api/v1/cameras/preview")
            assert await preview.content.readuntil(b"Content-Type: image/jpeg")
            pictures = asyncio.create_task(preview.content.read())  # read on, as the kiosk's <img> does
            assert agent.proc is not None
            agent.proc.send_signal(signal.SIGTERM)
            closing = await socket.receive(timeout=10)
            while closing.type is aiohttp.WSMsgType.TEXT:  # the simulated sensors' readings, until the close
                closing = await socket.receive(timeout=10)
            assert closing.type is aiohttp.WSMsgType.CLOSE, closing
            rest = await asyncio.wait_for(stream.content.read(), 10)  # the stream's end, not a cut connection
            assert (await asyncio.wait_for(pictures, 10)).endswith(b"\r\n")  # the preview's last picture whole
            return closing.data, first + rest

    code, streamed = run_async(stopped_under_them())
    assert code == aiohttp.WSCloseCode.GOING_AWAY
    assert streamed.startswith(b"data: ") and b'"state"' in streamed
    assert agent.proc is not None and agent.proc.wait(timeout=10) == 0
    assert "Traceback" not in agent.log()


# --- sd_notify ----------------------------------------------------------------------------------

@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, str]]:
    # A short path: unix socket paths are limited to ~108 bytes.
    directory = tempfile.mkdtemp(prefix="tc-notify-")
    path = os.path.join(directory, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    try:
        yield sock, path
    finally:
        sock.close()
        shutil.rmtree(directory, ignore_errors=True)


def receive(sock: socket.socket, until: float, enough: Callable[[list[dict[str, str]]], bool] = lambda got: False,
            ) -> list[tuple[float, dict[str, str]]]:
    """Datagrams received before the monotonic deadline `until` (or until `enough` of them),
    each parsed as KEY=VALUE lines."""
    got: list[tuple[float, dict[str, str]]] = []
    while (left := until - time.monotonic()) > 0 and not enough([fields for _, fields in got]):
        sock.settimeout(left)
        try:
            data = sock.recv(4096)
        except TimeoutError:
            break
        fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
        got.append((time.monotonic(), fields))
    return got


def test_systemd_notify_protocol(tmp_path: Path, notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    (tmp_path / "data").mkdir()
    agent = LiveAgent(tmp_path / "data", free_port(), env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"})
    launched = time.monotonic()
    agent.start()
    try:
        messages = receive(sock, time.monotonic() + 3.2, lambda got: sum(f.get("WATCHDOG") == "1" for f in got) >= 3)
        assert messages, "nothing received on NOTIFY_SOCKET"
        first_at, first = messages[0]
        assert first.get("READY") == "1", messages
        assert f"{agent.port}" in first.get("STATUS", ""), first
        assert first_at - launched < 20

        pings = [at for at, fields in messages if fields.get("WATCHDOG") == "1"]
        assert len(pings) >= 2, f"expected WATCHDOG=1 at least twice within 3 s, got {messages}"
        # WATCHDOG_USEC=2 s: pinged at half the interval, well within it.
        gaps = [b - a for a, b in itertools.pairwise(pings)]
        assert all(gap < 1.9 for gap in gaps), gaps
        assert all("READY" not in fields for _, fields in messages[1:]), messages
    finally:
        assert agent.proc is not None
        agent.proc.send_signal(signal.SIGTERM)
        after = receive(sock, time.monotonic() + 5, lambda got: any(f.get("STOPPING") == "1" for f in got))
        code = agent.proc.wait(10)
        after += receive(sock, time.monotonic() + 0.3)  # whatever came after, until the process exited
    assert any(fields.get("STOPPING") == "1" for _, fields in after), after
    assert code == 0
    stopping = next(i for i, (_, f) in enumerate(after) if f.get("STOPPING") == "1")
    assert all(f.get("WATCHDOG") != "1" for _, f in after[stopping + 1:]), "watchdog pinged after STOPPING=1"


def test_watchdog_meant_for_another_process_is_not_pinged(tmp_path: Path, notify_socket: tuple[socket.socket, str]) -> None:
    """systemd sets WATCHDOG_PID to the main process; a child that inherits the variables must
    not ping in its place."""
    sock, path = notify_socket
    (tmp_path / "data").mkdir()
    agent = LiveAgent(tmp_path / "data", free_port(),
                      env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid())})
    agent.start()
    try:
        messages = receive(sock, time.monotonic() + 1.5)
        assert any(fields.get("READY") == "1" for _, fields in messages), messages
        assert not any("WATCHDOG" in fields for _, fields in messages), messages
    finally:
        assert agent.stop() == 0


def test_without_notify_socket_nothing_breaks(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    agent = LiveAgent(tmp_path / "data", free_port(), env={"WATCHDOG_USEC": "1000000"})
    env_backup = os.environ.pop("NOTIFY_SOCKET", None)
    try:
        agent.start()
        assert requests.get(f"{agent.url}/healthz", timeout=2).status_code == 200
        time.sleep(1.2)  # a watchdog tick without a socket must not crash the loop
        assert requests.get(f"{agent.url}/healthz", timeout=2).status_code == 200
        assert agent.stop() == 0
    finally:
        if env_backup is not None:
            os.environ["NOTIFY_SOCKET"] = env_backup


# --- journal ------------------------------------------------------------------------------------

def test_journal_logging(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    agent = LiveAgent(tmp_path / "data", free_port(), env={"JOURNAL_STREAM": "8:123456"})
    agent.start()
    try:
        client = agent.login(agent.add_account())
        made = client.post(f"{agent.url}/api/v1/patients", json={
            "birth_name": "JOURNAL", "first_names": ["Léa"], "birth_date": "1950-05-05", "sex": "F"})
        assert made.status_code == 201, made.text
        assert requests.get(f"{agent.url}/healthz", timeout=2).json()["status"] == "ok"
        assert agent.proc is not None
        pid = agent.proc.pid
        # Under the journal, records do not go to stderr as text lines.
        assert "agent ready on" not in agent.log()
    finally:
        assert agent.stop() == 0

    if not JOURNAL_SOCKET.exists() or shutil.which("journalctl") is None:
        return  # no journald on this machine: starting and serving is all that can be checked
    deadline = time.monotonic() + 10
    records: list[dict] = []
    while time.monotonic() < deadline and not records:
        out = subprocess.run(["journalctl", "--no-pager", "-o", "json", f"_PID={pid}", "SYSLOG_IDENTIFIER=telecart",
                              "TELECART_EVENT=ready"], check=False, capture_output=True, text=True, timeout=30)
        records = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
        time.sleep(0.2)
    assert records, "the ready record did not reach the journal"
    assert records[0]["TELECART_PORT"] == str(agent.port)
    assert "agent ready" in records[0]["MESSAGE"]
