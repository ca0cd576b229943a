"""Debian's Janus (the `janus` package) for a test: started in the test run's network namespace
(tests/netns.py), with a configuration made from /etc/janus's in a scratch directory as
../shared/notes/webrtc-scale-here.md §1 and docs/janus.md say: the WebSocket API only, on
127.0.0.1 and a free port; the VideoRoom plugin only, its rooms created with an admin key; no
admin API; RTP on a range of free ports.

Janus skips loopback interfaces when it gathers ICE candidates: it must run where an address that
is not loopback exists. In the run's namespace it gathers the veth pair's 10.77.0.x, as the cart's
aiortc and the pages' Chromium do, and no packet leaves the namespace.

    with janus_server(tmp_path) as janus:       # skips the test when janus is not installed
        janus.url                                # ws://127.0.0.1:PORT
        janus.cpu_seconds()                      # what it used so far

SIGTERM takes Janus about 2 s: a module-scoped fixture shares one between a module's tests.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.call.janus import JanusClient, JanusError
from tests.live import free_port
from tests.netns import OFF
from tests.notify.servers import run_async
from tests.processes import end

JANUS = "/usr/bin/janus"
SYSTEM_CONFIG = Path("/etc/janus")
ADMIN_KEY = "test-admin-key"  # the VideoRoom's: only who shows it creates rooms (the carts)
KEPT = {"plugins": {"libjanus_videoroom.so"}, "transports": {"libjanus_websockets.so"}, "loggers": set()}
RTP_PORTS = 200  # a range this wide: two media streams per peer connection would already fit many


@dataclass
class JanusServer:
    url: str
    process: subprocess.Popen
    log: Path
    rtp_ports: tuple[int, int]
    admin_key: str = ADMIN_KEY

    def cpu_seconds(self) -> float:
        """User and system CPU time Janus used so far (its threads included)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def unavailable() -> str | None:
    """Why Janus cannot run here (None: it can)."""
    if not Path(JANUS).exists() or not (SYSTEM_CONFIG / "janus.jcfg").exists():
        return "Debian's janus is not installed (apt-get install janus, or scripts/bootstrap test)"
    if os.environ.get(OFF) != "inside":
        # Janus would gather the machine's own addresses: no test media goes there
        return "Janus runs only in the test run's own network namespace (tests/netns.py: root needed)"
    return None


def _free_udp_range(width: int) -> tuple[int, int]:
    """A range of UDP ports none of which is bound now (in this namespace)."""
    for _ in range(50):
        start = random.randrange(20000, 40000 - width, 10)
        taken = False
        for port in range(start, start + width):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                try:
                    probe.bind(("0.0.0.0", port))
                except OSError:
                    taken = True
                    break
        if not taken:
            return start, start + width - 1
    raise RuntimeError("no free range of UDP ports for Janus's RTP")


def _set(text: str, key: str, value: str, section: str | None = None) -> str:
    """`key = value` in a .jcfg: the line that sets it (commented out or not) replaced, or the
    line added at the top of `section` when no line names it."""
    line = re.compile(rf"^(\s*)#?\s*{re.escape(key)}\s*=.*$", re.MULTILINE)
    if line.search(text):
        return line.sub(lambda m: f"{m.group(1)}{key} = {value}", text, count=1)
    if section is None:
        raise ValueError(f"{key} is not in the configuration")
    return re.sub(rf"^{section}:\s*{{", lambda m: f"{m.group(0)}\n\t{key} = {value}", text, count=1, flags=re.MULTILINE)


def _disabled(folder: Path, kind: str) -> str:
    names = sorted(p.name for p in folder.glob("libjanus_*.so"))
    return '"' + ",".join(n for n in names if n not in KEPT[kind]) + '"'


def write_config(directory: Path, ws_port: int, rtp_ports: tuple[int, int], admin_key: str = ADMIN_KEY) -> Path:
    """Janus's configuration in `directory`, made from the system's: returns janus.jcfg's path."""
    directory.mkdir(parents=True, exist_ok=True)
    for source in SYSTEM_CONFIG.glob("*.jcfg"):
        shutil.copy(source, directory / source.name)
    main = directory / "janus.jcfg"
    text = main.read_text()
    folders = {kind: Path(re.search(rf'^\s*{kind}_folder\s*=\s*"([^"]+)"', text, re.MULTILINE).group(1))  # type: ignore[union-attr]
               for kind in ("plugins", "transports", "loggers")}
    text = _set(text, "configs_folder", f'"{directory}"')
    text = re.sub(r"^(\s*)admin_secret\s*=", r"\1#admin_secret =", text, flags=re.MULTILINE)  # no admin API
    text = _set(text, "rtp_port_range", f'"{rtp_ports[0]}-{rtp_ports[1]}"', "media")
    for kind in ("plugins", "transports", "loggers"):
        section = re.search(rf"^{kind}:\s*{{.*?^}}", text, re.MULTILINE | re.DOTALL)
        assert section is not None, kind
        block = _set(section.group(0), "disable", _disabled(folders[kind], kind), kind)
        text = text[:section.start()] + block + text[section.end():]
    main.write_text(text)

    ws = directory / "janus.transport.websockets.jcfg"
    text = ws.read_text()
    text = _set(text, "ws_port", str(ws_port))
    text = _set(text, "ws_ip", '"127.0.0.1"', "general")
    text = _set(text, "json", '"compact"')
    text = _set(text, "wss", "false")
    text = _set(text, "admin_ws", "false")
    ws.write_text(text)

    # No demo rooms; rooms are made by the carts, which show the admin key.
    (directory / "janus.plugin.videoroom.jcfg").write_text(f'general: {{\n\tadmin_key = "{admin_key}"\n}}\n')
    return main


async def _answers(url: str) -> bool:
    try:
        async with await JanusClient.connect(url, timeout=2) as client:
            await client.info()
            return True
    except JanusError:
        return False


@contextlib.contextmanager
def janus_server(directory: Path, timeout: float = 15) -> Iterator[JanusServer]:
    """Janus running with a configuration of its own in `directory`, stopped after. Skips the test
    when Janus is not installed."""
    why_not = unavailable()
    if why_not:
        pytest.skip(why_not)
    port, rtp_ports = free_port(), _free_udp_range(RTP_PORTS)
    config = write_config(directory / "janus-conf", port, rtp_ports)
    log = directory / "janus.log"
    with log.open("wb") as out:
        # -o: no colours, -D: time stamps; -F/-C: only our configuration is read
        process = subprocess.Popen([JANUS, "-F", str(config.parent), "-C", str(config), "-o", "-D"],
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = JanusServer(f"ws://127.0.0.1:{port}", process, log, rtp_ports)
    try:
        deadline = time.monotonic() + timeout
        while not run_async(_answers(server.url)):  # a thread of its own: Playwright may hold this one's loop
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Janus did not answer on {server.url} (exit {process.poll()}):\n{server.log_tail()}")
            time.sleep(0.1)
        yield server
    finally:
        end(process)
