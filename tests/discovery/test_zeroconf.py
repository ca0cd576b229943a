"""The cart is found on the EHPAD's network as a technician's laptop finds it: a real agent
announces `_telecart._tcp` by multicast DNS and a python-zeroconf browser finds it, with the
technician's page path, the cart's version and its certificate's fingerprint, then sees it leave
when the agent stops. All of it inside a network namespace the test makes (`unshare -n`, loopback
only): nothing is multicast on the machine's own network."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomli_w

from agent import __version__
from agent.tls import fingerprint
from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]


def _namespace_works() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return False
    return subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(not _namespace_works(), reason="needs root, unshare and ip to make a private network namespace")


def test_a_technicians_browser_finds_the_cart_with_its_page_and_fingerprint_and_sees_it_leave(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    config = tmp_path / "telecart.toml"
    config.write_text(tomli_w.dumps({"technician": {"cart_name": "Chariot 2e étage", "announce": True, "announce_interfaces": ["127.0.0.1"]}}))
    script = f"ip link set lo up && exec {sys.executable} -m tests.discovery.find_cart {data} {config} {free_port()} {free_port()}"
    run = subprocess.run(["unshare", "-n", "sh", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stderr[-3000:]
    said = json.loads(run.stdout.strip().splitlines()[-1])
    log = (tmp_path / "agent-in-namespace.log").read_text(errors="replace")
    found = said["found"]
    assert found is not None, f"not found in {said['seconds']} s; agent's log:\n{log[-3000:]}"
    assert found["name"] == "Chariot 2e étage._telecart._tcp.local."
    assert found["addresses"] == ["127.0.0.1"]
    assert found["properties"]["path"] == "/technicien" and found["properties"]["version"] == __version__
    assert found["properties"]["fp"] == fingerprint(data / "tls" / "cart.crt").replace(":", "").lower()
    assert said["removed"], "the cart stopped without saying goodbye: browsers would list it for an hour"
    assert said["agent_exit"] == 0
