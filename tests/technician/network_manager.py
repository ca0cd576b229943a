"""NetworkManager's D-Bus API on a private system bus, for the technician page's network tests:
python-dbusmock's `networkmanager` template (Debian's python3-dbusmock, run by the system's
Python, which has dbus-python) on a dbus-daemon of the test's own (tests/private_bus.py). The agent
under test is given the bus by `DBUS_SYSTEM_BUS_ADDRESS` and speaks to it with dbus-fast exactly
as to the real daemon.

The test shapes the network through the template's Mock interface (a wired interface with an
address, a Wi-Fi interface, access points in range); `dbus-monitor` records what the agent asked
of NetworkManager (`sent`), which is how a test sees the Wi-Fi passphrase went where it belongs.
What the template does not model: real association and DHCP; AddAndActivateConnection makes the
connection and marks the interface activated at once.

    with mocked_network_manager(tmp_path) as nm:
        nm.add_ethernet("eth0", "192.168.10.23", 24)
        wifi = nm.add_wifi("wlan0")
        nm.add_access_point(wifi, "EHPAD-Soins", strength=80, secured=True)
        ...run the agent with env={"DBUS_SYSTEM_BUS_ADDRESS": nm.address}
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from tests.notify.servers import run_async
from tests.private_bus import start_bus

NM = "org.freedesktop.NetworkManager"
NM_PATH = "/org/freedesktop/NetworkManager"
MOCK = "org.freedesktop.DBus.Mock"  # the template adds its methods (AddEthernetDevice…) to dbusmock's own interface
SYSTEM_PYTHON = "/usr/bin/python3"
ACTIVATED, DISCONNECTED = 100, 30
NM_802_11_MODE_INFRA = 2


def available() -> bool:
    """Debian's python3-dbusmock and dbus-daemon are installed (scripts/bootstrap test)."""
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import dbusmock"], capture_output=True) if os.path.exists(SYSTEM_PYTHON) else None
    return bool(probe and probe.returncode == 0 and shutil.which("dbus-daemon") and shutil.which("dbus-monitor"))


@dataclass
class MockedNetworkManager:
    directory: Path
    socket: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _addresses: int = 0

    @property
    def address(self) -> str:
        return f"unix:path={self.socket}"

    def call(self, path: str, interface: str, member: str, signature: str = "", body: list[Any] | None = None) -> list[Any]:
        async def send() -> list[Any]:
            bus = await MessageBus(bus_address=self.address, bus_type=BusType.SYSTEM).connect()
            try:
                reply = await bus.call(Message(destination=NM, path=path, interface=interface, member=member, signature=signature, body=body or []))
            finally:
                bus.disconnect()
            assert reply is not None and reply.message_type != MessageType.ERROR, (member, reply and reply.body)
            return reply.body
        return run_async(send())

    def add_ethernet(self, interface: str, address: str | None, prefix: int = 24) -> str:
        path = self.call(NM_PATH, MOCK, "AddEthernetDevice", "ssi", [f"mock_{interface}", interface, ACTIVATED if address else DISCONNECTED])[0]
        if address:
            self._addresses += 1
            config = f"{NM_PATH}/IP4Config/{self._addresses}"
            self.call(NM_PATH, MOCK, "AddObject", "ssa{sv}a(ssss)", [config, f"{NM}.IP4Config", {
                "AddressData": Variant("aa{sv}", [{"address": Variant("s", address), "prefix": Variant("u", prefix)}])}, []])
            self.call(path, MOCK, "AddProperty", "ssv", [f"{NM}.Device", "Ip4Config", Variant("o", config)])
            profile = self.call(f"{NM_PATH}/Settings", f"{NM}.Settings", "AddConnection", "a{sa{sv}}", [{"connection": {
                "id": Variant("s", f"Filaire {interface}"), "uuid": Variant("s", f"00000000-0000-4000-8000-{self._addresses:012d}"),
                "type": Variant("s", "802-3-ethernet")}}])[0]
            self.call(NM_PATH, MOCK, "AddActiveConnection", "assssu", [[path], profile, "/", f"wired{self._addresses}", 2])
        return path

    def add_wifi(self, interface: str) -> str:
        return self.call(NM_PATH, MOCK, "AddWiFiDevice", "ssi", [f"mock_{interface}", interface, DISCONNECTED])[0]

    def add_access_point(self, device: str, ssid: str, strength: int, secured: bool) -> str:
        name = f"ap_{ssid.replace('-', '_')}_{strength}"
        # NetworkManager's NM_802_11_AP_SEC flags, as the template takes them: 0 open, 0x100 WPA-PSK key management
        return self.call(NM_PATH, MOCK, "AddAccessPoint", "ssssuuuyu",
                         [device, name, ssid, "00:11:22:33:44:%02x" % strength, NM_802_11_MODE_INFRA, 2437, 54000, strength,
                          0x100 if secured else 0])[0]

    def sent(self) -> str:
        """What dbus-monitor saw the agent ask of NetworkManager, as text."""
        return (self.directory / "monitor.log").read_text(errors="replace")


@contextlib.contextmanager
def mocked_network_manager(root: Path) -> Iterator[MockedNetworkManager]:
    directory = root / "nm"
    directory.mkdir(parents=True)
    nm = MockedNetworkManager(directory, directory / "system_bus")
    with mocked_system_services(directory, nm.socket, {"networkmanager": None}, monitor=NM) as processes:
        nm.processes = processes
        wait_until_it_answers(lambda: nm.call(NM_PATH, "org.freedesktop.DBus.Properties", "Get", "ss", [NM, "Version"]), directory)
        yield nm


def wait_until_it_answers(ask: Callable[[], Any], directory: Path, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            ask()
            return
        except (AssertionError, OSError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the mocked service did not start:\n{(directory / 'dbusmock.log').read_text()}") from None
            time.sleep(0.1)


@contextlib.contextmanager
def mocked_system_services(directory: Path, socket: Path, templates: dict[str, dict[str, Any] | None],
                           monitor: str | None = None) -> Iterator[list[subprocess.Popen[bytes]]]:
    """A private system bus with python-dbusmock serving each template (with its parameters), and
    dbus-monitor recording the calls to `monitor`'s interface in monitor.log."""
    processes: list[subprocess.Popen[bytes]] = []
    logs = [open(directory / name, "ab") for name in ("dbus.log", "dbusmock.log", "monitor.log")]
    try:
        processes.append(start_bus(directory, socket, logs[0]))
        env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={socket}"}
        for template, parameters in templates.items():
            extra = ["--parameters", json.dumps(parameters)] if parameters else []
            processes.append(subprocess.Popen([SYSTEM_PYTHON, "-m", "dbusmock", "--template", template, *extra], env=env,
                                              stdout=logs[1], stderr=logs[1]))
        if monitor:
            processes.append(subprocess.Popen(["dbus-monitor", "--address", f"unix:path={socket}", f"interface='{monitor}'"],
                                              stdout=logs[2], stderr=logs[2]))
        yield processes
    finally:
        for process in reversed(processes):
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
            if process.poll() is None:
                process.kill()
        for log in logs:
            log.close()
