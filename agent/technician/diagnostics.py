"""What the technician's page shows of the cart's health, with psutil: processor, memory, the data
disk, temperatures and battery where the hardware reports them, the network addresses, how long
the system and the agent have been up. Figures only: nothing of a resident.

psutil is imported when the page first asks for the figures, not at the agent's start (a compiled
library and a few MiB a cart may never use; docs/architecture.md, "What loads when"). Its CPU
percentages are measured between two readings; the first reading counts from this module's import,
at the agent's start, as when psutil was imported there: the kernel's counters (/proc/stat) and the
process's CPU time are noted at import, without psutil.
"""

from __future__ import annotations

import functools
import os
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent import __version__
from agent.technician.encryption import data_encryption

if TYPE_CHECKING:
    import psutil


def _kernel_cpu() -> list[int] | None:
    """The machine's CPU counters (/proc/stat's first line: user, nice, system, idle, iowait, irq,
    softirq, steal, guest, guest_nice, in clock ticks), or None."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            return [int(n) for n in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None


# Where the first reading counts from: wall clock, the process's CPU time, the machine's counters.
_STARTED = (time.monotonic(), time.process_time(), _kernel_cpu())


@functools.cache
def _agent() -> psutil.Process:
    """This process, with psutil imported and its clocks started (each reading is since the last)."""
    import psutil

    process = psutil.Process(os.getpid())
    process.cpu_percent(None)
    psutil.cpu_percent(None)
    return process


def _first_readings() -> tuple[float, float]:
    """The machine's and the agent's CPU percentages since this module's import, as psutil would
    have said had it been imported then (its busy time: all but idle and iowait; guest time is
    counted in user's already)."""
    wall, cpu, before = _STARTED
    agent = 100 * (time.process_time() - cpu) / max(time.monotonic() - wall, 1e-6)
    now = _kernel_cpu()
    if now is None:
        return 0.0, agent
    before = before if before is not None and len(before) == len(now) else [0] * len(now)  # else: since boot
    delta = [b - a for a, b in zip(before, now, strict=True)] + [0] * 10
    total = sum(delta[:8])
    busy = total - delta[3] - delta[4]
    return (100 * busy / total if total > 0 else 0.0), agent


def _temperatures() -> list[dict[str, Any]]:
    """Each sensor the kernel exposes (none in a VM), hottest first."""
    import psutil

    try:
        found = psutil.sensors_temperatures()
    except (AttributeError, OSError):  # not on this platform, or unreadable
        return []
    readings = [{"sensor": f"{chip} {t.label}".strip(), "celsius": round(t.current, 1), "high": t.high or None, "critical": t.critical or None}
                for chip, entries in found.items() for t in entries]
    return sorted(readings, key=lambda r: -r["celsius"])


def _battery() -> dict[str, Any] | None:
    import psutil

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
    import psutil

    found = []
    for name, entries in psutil.net_if_addrs().items():
        for entry in entries:
            if entry.family in (socket.AF_INET, socket.AF_INET6) and not entry.address.startswith(("127.", "::1", "fe80")):
                found.append({"interface": name, "address": entry.address.split("%")[0]})
    return found


def snapshot(data_dir: Path, agent_started: float) -> dict[str, Any]:
    """The figures, now. `agent_started`: the agent's start, in monotonic seconds."""
    first = _agent.cache_info().currsize == 0
    process = _agent()
    import psutil

    system_cpu, agent_cpu = _first_readings() if first else (psutil.cpu_percent(None), process.cpu_percent(None))
    memory, disk = psutil.virtual_memory(), psutil.disk_usage(str(data_dir))
    with process.oneshot():
        agent = {"version": __version__, "uptime_seconds": int(time.monotonic() - agent_started),
                 "memory_bytes": process.memory_info().rss, "cpu_percent": round(agent_cpu, 1), "threads": process.num_threads()}
    return {
        "hostname": socket.gethostname(),
        "system_uptime_seconds": int(time.time() - psutil.boot_time()),
        "cpu": {"percent": round(system_cpu, 1), "cores": psutil.cpu_count() or 1,
                "load": [round(x, 2) for x in psutil.getloadavg()]},
        "memory": {"total_bytes": memory.total, "available_bytes": memory.available, "percent": memory.percent},
        "disk": {"path": str(data_dir), "total_bytes": disk.total, "free_bytes": disk.free, "percent": disk.percent,
                 "encryption": data_encryption(data_dir)},
        "temperatures": _temperatures(),
        "battery": _battery(),
        "addresses": _addresses(),
        "agent": agent,
    }
