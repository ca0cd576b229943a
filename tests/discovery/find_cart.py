"""Run inside a network namespace of the test's own (`unshare -n`, loopback up): starts a real agent
that announces itself by zeroconf on 127.0.0.1, finds it with a python-zeroconf browser as a
technician's laptop would, then stops the agent and waits for its goodbye. Prints what was found
as one JSON line: {"found": {...} | null, "removed": bool, "seconds": float}.

    python -m tests.discovery.find_cart DATA_DIR CONFIG PORT HTTPS_PORT
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from zeroconf import DNSQuestionType, IPVersion, ServiceBrowser, ServiceListener, Zeroconf

from agent.technician.discovery import SERVICE_TYPE

TIMEOUT = 30.0


class Listener(ServiceListener):
    def __init__(self) -> None:
        self.added, self.removed = threading.Event(), threading.Event()
        self.names: list[str] = []

    def add_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.names.append(name)
        self.added.set()

    def remove_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.removed.set()

    def update_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        pass


def main(data_dir: str, config: str, port: str, https_port: str) -> int:
    log = open(Path(data_dir).parent / "agent-in-namespace.log", "ab")
    agent = subprocess.Popen([sys.executable, "-m", "agent.cli", "run", "--simulate", "--data-dir", data_dir, "--config", config,
                              "--port", port, "--https-port", https_port], stdout=log, stderr=log)
    zc = Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    listener = Listener()
    started = time.monotonic()
    browser = ServiceBrowser(zc, SERVICE_TYPE, listener, question_type=DNSQuestionType.QM)
    found = None
    try:
        if listener.added.wait(TIMEOUT):
            info = zc.get_service_info(SERVICE_TYPE, listener.names[0], timeout=5000)
            if info is not None:
                found = {"name": info.name, "port": info.port, "server": info.server,
                         "addresses": info.parsed_addresses(), "properties": {k.decode(): (v or b"").decode() for k, v in info.properties.items()}}
        seconds = time.monotonic() - started
        agent.send_signal(signal.SIGTERM)
        agent.wait(20)
        removed = listener.removed.wait(5)
    finally:
        if agent.poll() is None:
            agent.kill()
        browser.cancel()
        zc.close()
    print(json.dumps({"found": found, "removed": removed, "seconds": round(seconds, 2), "agent_exit": agent.returncode}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
