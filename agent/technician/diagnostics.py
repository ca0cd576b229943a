"""What the technician's page shows of the cart's health, with psutil: processor, memory, the data
disk, temperatures and battery where the hardware reports them, the network addresses, how long
the system and the agent have been up. Figures only: nothing of a resident."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

import psutil

from agent import __version__
from agent.technician.encryption import data_encryption

_AGENT = psutil.Process(os.getpid())
_AGENT.cpu_percent(None)  # the first reading of a process is always 0: start its clock now
psutil.cpu_percent(None)


def _temperatures() -> list[dict[str, Any]]:
    """Each sensor the kernel exposes (none in a VM), hottest first."""
    try:
        found = psutil.sensors_temperatures()
    except (AttributeError, OSError):  # not on this platform, or unreadable
        return []
    readings = [{"sensor": f"{chip} {t.label}".strip(), "celsius": round(t.current, 1), "high": t.high or None, "critical": t.critical or None}
                for chip, entries in found.items() for t in entries]
    return sorted(readings, key=lambda r: -r["celsius"])


def _battery() -> dict[str, Any] | None:
    try:
        battery = psutil.sensors_battery()
    except (AttributeError, OSError):
        return None
    if battery is None:
        return None
    left = None if battery.secsleft in (psutil.POWER_TIME_UNLIMITED, psutil.POWER_TIME_UNKNOWN) else int(battery.secsleft)
    return {"percent": round(battery.percent), "plugged": bool(battery.power_plugged), "seconds_left": left}


def _addresses() -> list[dict[str, str]]:
    """The cart's addresses on each interface but loopback: where the technician's page is."""
    found = []
    for name, entries in psutil.net_if_addrs().items():
        for entry in entries:
            if entry.family in (socket.AF_INET, socket.AF_INET6) and not entry.address.startswith(("127.", "::1", "fe80")):
                found.append({"interface": name, "address": entry.address.split("%")[0]})
    return found


def snapshot(data_dir: Path, agent_started: float) -> dict[str, Any]:
    """The figures, now. `agent_started`: the agent's start, in monotonic seconds."""
    memory, disk = psutil.virtual_memory(), psutil.disk_usage(str(data_dir))
    with _AGENT.oneshot():
        agent = {"version": __version__, "uptime_seconds": int(time.monotonic() - agent_started),
                 "memory_bytes": _AGENT.memory_info().rss, "cpu_percent": round(_AGENT.cpu_percent(None), 1), "threads": _AGENT.num_threads()}
    return {
        "hostname": socket.gethostname(),
        "system_uptime_seconds": int(time.time() - psutil.boot_time()),
        "cpu": {"percent": round(psutil.cpu_percent(None), 1), "cores": psutil.cpu_count() or 1,
                "load": [round(x, 2) for x in psutil.getloadavg()]},
        "memory": {"total_bytes": memory.total, "available_bytes": memory.available, "percent": memory.percent},
        "disk": {"path": str(data_dir), "total_bytes": disk.total, "free_bytes": disk.free, "percent": disk.percent,
                 "encryption": data_encryption(data_dir)},
        "temperatures": _temperatures(),
        "battery": _battery(),
        "addresses": _addresses(),
        "agent": agent,
    }
