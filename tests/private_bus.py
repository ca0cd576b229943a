"""A private D-Bus "system" bus for a test: its own dbus-daemon on a socket in the test's
directory, open to every client (mocked system services own names on it: BlueZ, NetworkManager).
Clients reach it through `DBUS_SYSTEM_BUS_ADDRESS`; nothing touches the machine's own bus."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import IO

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""


def start_bus(directory: Path, socket: Path, log: IO[bytes] | int = subprocess.DEVNULL, timeout: float = 10) -> subprocess.Popen[bytes]:
    """The daemon, once its socket exists; its address is `unix:path=<socket>`."""
    config = directory / "bus.conf"
    config.write_text(BUS_CONFIG.format(socket=socket))
    socket.unlink(missing_ok=True)
    daemon = subprocess.Popen([shutil.which("dbus-daemon") or "dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile"],
                              stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + timeout
    while not socket.exists():
        if daemon.poll() is not None or time.monotonic() > deadline:
            daemon.kill()
            raise RuntimeError(f"dbus-daemon did not start (exit {daemon.poll()})")
        time.sleep(0.02)
    return daemon
