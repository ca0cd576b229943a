"""The systemd service protocol: READY=1 once serving, WATCHDOG=1 pings, STOPPING=1 on the way out.

Does nothing when not started by systemd (no NOTIFY_SOCKET). The watchdog is pinged from the
event loop itself, so a blocked loop stops the pings and systemd restarts the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

from systemd import daemon


class ServiceManager:
    def __init__(self) -> None:
        self.enabled = bool(os.environ.get("NOTIFY_SOCKET"))
        usec = os.environ.get("WATCHDOG_USEC")
        pid = os.environ.get("WATCHDOG_PID")
        self.watchdog_interval = (int(usec) / 1e6 / 2) if usec and (not pid or pid == str(os.getpid())) else None
        self._task: asyncio.Task[None] | None = None

    def notify(self, state: str) -> None:
        if self.enabled:
            daemon.notify(state)

    def ready(self, status: str) -> None:
        self.notify(f"READY=1\nSTATUS={status}")
        if self.enabled and self.watchdog_interval:
            self._task = asyncio.get_running_loop().create_task(self._ping())

    async def _ping(self) -> None:
        assert self.watchdog_interval
        while True:
            self.notify("WATCHDOG=1")
            await asyncio.sleep(self.watchdog_interval)

    async def stopping(self) -> None:
        self.notify("STOPPING=1")
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
