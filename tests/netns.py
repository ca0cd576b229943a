"""The whole test run in a network namespace of its own, so that no test's traffic touches the
machine's interfaces: the calls' ICE (aioice skips 127.0.0.1 and would pick the machine's address,
../shared/notes/webrtc-scale-here.md §0), mDNS, the servers the tests start.

Made once, in the pytest process that starts the others (xdist's workers inherit it, so they
share one loopback: the machine's pcscd that one worker starts is reachable by the other). In it:
loopback up, and a veth pair with both ends inside (10.77.0.1 and 10.77.0.2, the default route
into it), which gives the ICE stacks an address that is not loopback without any packet leaving
the namespace.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from pathlib import Path

from tests.card.virtual_card import VPCD_PORT

CLONE_NEWNET = 0x40000000
ADDRESSES = {"tn0": "10.77.0.1/24", "tn1": "10.77.0.2/24"}
OFF = "TELECART_TEST_NETNS"  # =0: run on the machine's own network namespace (a developer without root)


def enter_private_network() -> str | None:
    """Move this process (its main thread: every process and thread started after) into a new
    network namespace. Returns why not, when it could not (not root, no `ip`), else None."""
    if os.environ.get(OFF) == "0":
        return f"{OFF}=0"
    if os.geteuid() != 0 or not shutil.which("ip"):
        return "needs root and iproute2"
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        return f"unshare: {os.strerror(ctypes.get_errno())}"
    commands = [["ip", "link", "set", "lo", "up"], ["ip", "link", "add", "tn0", "type", "veth", "peer", "name", "tn1"]]
    for name, address in ADDRESSES.items():
        commands += [["ip", "addr", "add", address, "dev", name], ["ip", "link", "set", name, "up"]]
    # A default route into the pair: Chromium gathers no candidate at all without one (nothing
    # leaves: what goes out of tn0 arrives at tn1, in here). The machine's name servers are made
    # unreachable, so a name lookup fails at once as it would offline, instead of waiting seconds
    # for an answer that cannot come (the tests of a dead network look names up).
    commands.append(["ip", "route", "add", "default", "dev", "tn0"])
    for server in _name_servers():
        commands.append(["ip", "-6" if ":" in server else "-4", "route", "add", "unreachable", server])
    for command in commands:
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode != 0:
            return f"{' '.join(command)}: {run.stderr.strip()}"
    # vpcd's virtual readers listen on fixed ports inside the ephemeral range: a test's client
    # connection (or its TIME_WAIT) on one of them made a later pcscd come up without its reader
    # (« Address already in use »), failing a whole card module. Never hand them out here.
    Path("/proc/sys/net/ipv4/ip_local_reserved_ports").write_text(f"{VPCD_PORT}-{VPCD_PORT + 1}\n")
    os.environ[OFF] = "inside"  # said to whoever asks (and to the workers)
    return None


def _name_servers() -> list[str]:
    try:
        lines = Path("/etc/resolv.conf").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return [line.split()[1] for line in lines if line.startswith("nameserver ") and len(line.split()) > 1]
