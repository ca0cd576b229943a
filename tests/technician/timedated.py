"""systemd-timedated's D-Bus API on a private system bus, for the technician page's clock tests:
python-dbusmock's `timedated` template on a dbus-daemon of the test's own (the same rig as
tests/technician/network_manager.py). The template keeps what it is told (the zone, NTP on or off)
as properties; it does not move any clock, and SetTime does nothing but answer, which
dbus-monitor's record (`sent`) shows."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from tests.notify.servers import run_async
from tests.technician.network_manager import mocked_system_services, wait_until_it_answers

TIMEDATE = "org.freedesktop.timedate1"
TIMEDATE_PATH = "/org/freedesktop/timedate1"


@dataclass
class MockedTimedated:
    directory: Path
    socket: Path

    @property
    def address(self) -> str:
        return f"unix:path={self.socket}"

    def properties(self) -> dict[str, Any]:
        async def ask() -> dict[str, Any]:
            bus = await MessageBus(bus_address=self.address, bus_type=BusType.SYSTEM).connect()
            try:
                reply = await bus.call(Message(destination=TIMEDATE, path=TIMEDATE_PATH, interface="org.freedesktop.DBus.Properties",
                                               member="GetAll", signature="s", body=[TIMEDATE]))
            finally:
                bus.disconnect()
            assert reply is not None and reply.message_type != MessageType.ERROR, reply and reply.body
            return {k: v.value if isinstance(v, Variant) else v for k, v in reply.body[0].items()}
        return run_async(ask())

    def sent(self) -> str:
        return (self.directory / "monitor.log").read_text(errors="replace")


@contextlib.contextmanager
def mocked_timedated(root: Path, timezone: str = "Europe/Paris", ntp: bool = True) -> Iterator[MockedTimedated]:
    directory = root / "timedated"
    directory.mkdir(parents=True)
    clock = MockedTimedated(directory, directory / "system_bus")
    with mocked_system_services(directory, clock.socket, {"timedated": {"Timezone": timezone, "NTP": ntp}}, monitor=TIMEDATE):
        wait_until_it_answers(clock.properties, directory)
        yield clock
