"""Bluetooth without a radio: a private D-Bus daemon standing for the system bus, BlueZoo (a
user-space mock of BlueZ's D-Bus API) on it with the cart's adapter, and scripted GATT peripherals,
each on an adapter of its own (BlueZoo reports one advertisement per adapter and an adapter's address
is its device's), serving the Bluetooth SIG health services and sending real payload bytes.

The test process's `DBUS_SYSTEM_BUS_ADDRESS` points at the private bus while the harness runs, so
bleak (and the agent, given the same environment) talks to BlueZoo and never to the machine's
bluetoothd; nothing here opens a socket outside the harness's temporary directory.

    with private_bluez() as bluez:
        cuff = bluez.add_peripheral(blood_pressure_monitor("C0:FF:EE:00:00:01"))
        ... BleSensors(..., adapter=bluez.cart_adapter) ...
        eventually(lambda: cuff.notifying(BLOOD_PRESSURE))
        cuff.notify(BLOOD_PRESSURE, bytes.fromhex("1E 8A 00 ..."))
        cuff.vanish(); cuff.come_back()
        bluez.restart_bluezoo()

Peripherals run on a thread of their own (an asyncio loop holding their dbus-fast connections), so
the harness's methods are plain blocking calls, usable from a synchronous test driving a live agent
as well as (through `asyncio.to_thread`) from a coroutine.

What BlueZoo 1.0.2 does differently from bluetoothd, and how the harness makes it behave like the
real thing (`_bluezoo_main` runs it with three of its methods wrapped, nothing else changed):
- `Device1.Connect` succeeds at once even when the peer is not advertising (out of range): wrapped,
  it waits for the peer to advertise, as bluetoothd waits for an LE device, until the caller gives
  up with `Disconnect` (bleak does at its time-out).
- A link that goes keeps its GATT objects exported, so connecting again fails (sd-bus EEXIST on the
  same object path): wrapped, `Disconnect` removes them and ends their subscriptions, as bluetoothd
  does when a link drops.
- It never drops a link by itself: a peripheral that vanishes unregisters its advertisement and GATT
  application (its D-Bus connection closes) and the harness drops the link with the cart's
  `Device1.Disconnect`, which is what bleak sees of a supervision time-out.
- It keeps a peripheral's characteristics "notifying" after the link drops (bluetoothd calls
  `StopNotify` on the application when the client goes): the peripheral clears that itself when its
  adapter's view of the cart disconnects.
- A device heard again by a scan changes none of its properties, so bleak (which reports what
  changes while it scans) hears it only the first time: wrapped, each advertisement heard sets an
  RSSI, as a real radio's varies.
- It confirms every value change (notification or indication) with `Confirm`; peripherals count them.
- Pairing succeeds only when the default agent says NoInputNoOutput (the cart's does) and cannot be
  refused by the peripheral; refusals are not played here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusBool, DBusBytes, DBusDict, DBusObjectPath, DBusSignature, DBusStr
from dbus_fast.errors import DBusError
from dbus_fast.service import PropertyAccess, ServiceInterface, dbus_method, dbus_property

from tests.private_bus import start_bus

log = logging.getLogger(__name__)

CART_ADDRESS = "CA:7E:00:00:00:01"
BLUEZ = "org.bluez"
_T = TypeVar("_T")
DBusStrings = Annotated[list[str], DBusSignature("as")]


def sig_uuid(short: int) -> str:
    return f"{short:08x}-0000-1000-8000-00805f9b34fb"


# --- What a peripheral serves --------------------------------------------------------------------

@dataclass
class Characteristic:
    uuid: str
    flags: tuple[str, ...]  # BlueZ's: "read", "write", "notify", "indicate"
    value: bytes = b""  # what a read returns
    on_write: Callable[[Peripheral, bytes], Awaitable[None]] | None = None
    answers_subscription: bool = True  # False: a StartNotify left unanswered, as by a device whose link is going


@dataclass
class Service:
    uuid: str
    characteristics: list[Characteristic]


@dataclass
class PeripheralSpec:
    address: str
    name: str
    services: list[Service]
    advertised: list[str] = field(default_factory=list)  # service UUIDs in its advertisement (default: all)


# --- The peripheral's D-Bus objects (BlueZ's external GATT application and advertisement API) ----

class _GattService(ServiceInterface):
    def __init__(self, uuid: str) -> None:
        super().__init__("org.bluez.GattService1")
        self._uuid = uuid

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> DBusStr:  # noqa: N802 (BlueZ's names)
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> DBusBool:  # noqa: N802
        return True


class _GattCharacteristic(ServiceInterface):
    def __init__(self, peripheral: Peripheral, spec: Characteristic, service_path: str) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self.peripheral, self.spec, self.service_path = peripheral, spec, service_path
        self.notifying = False

    @dbus_method()
    async def ReadValue(self, options: DBusDict) -> DBusBytes:  # noqa: N802
        return self.spec.value

    @dbus_method()
    async def WriteValue(self, value: DBusBytes, options: DBusDict):  # noqa: N802
        self.peripheral.writes.append((self.spec.uuid, bytes(value)))
        if self.spec.on_write is None:
            self.spec.value = bytes(value)
        else:  # answered after the write's own reply, as a device does
            asyncio.get_running_loop().call_soon(lambda: self.peripheral._spawn(self.spec.on_write(self.peripheral, bytes(value))))

    @dbus_method()
    async def StartNotify(self):  # noqa: N802
        if not self.spec.answers_subscription:
            await self.peripheral.off_air.wait()  # unanswered while the peripheral is on the air
            return
        self.set_notifying(True)

    @dbus_method()
    def StopNotify(self):  # noqa: N802
        self.set_notifying(False)

    @dbus_method()
    def Confirm(self):  # noqa: N802
        self.peripheral.confirmations += 1

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> DBusStr:  # noqa: N802
        return self.spec.uuid

    @dbus_property(access=PropertyAccess.READ)
    def Service(self) -> DBusObjectPath:  # noqa: N802
        return self.service_path

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> DBusStrings:  # noqa: N802
        return list(self.spec.flags)

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> DBusBytes:  # noqa: N802
        return self.spec.value

    @dbus_property(access=PropertyAccess.READ)
    def Notifying(self) -> DBusBool:  # noqa: N802
        return self.notifying

    def set_notifying(self, on: bool) -> None:
        if on != self.notifying:
            self.notifying = on
            self.emit_properties_changed({"Notifying": on})

    def send(self, data: bytes) -> None:
        self.spec.value = data
        self.emit_properties_changed({"Value": data})


class _Advertisement(ServiceInterface):
    def __init__(self, spec: PeripheralSpec) -> None:
        super().__init__("org.bluez.LEAdvertisement1")
        self.spec = spec

    @dbus_method()
    def Release(self):  # noqa: N802
        pass

    @dbus_property(access=PropertyAccess.READ)
    def Type(self) -> DBusStr:  # noqa: N802
        return "peripheral"

    @dbus_property(access=PropertyAccess.READ)
    def ServiceUUIDs(self) -> DBusStrings:  # noqa: N802
        return self.spec.advertised or [s.uuid for s in self.spec.services]

    @dbus_property(access=PropertyAccess.READ)
    def LocalName(self) -> DBusStr:  # noqa: N802
        return self.spec.name

    @dbus_property(access=PropertyAccess.READ)
    def Discoverable(self) -> DBusBool:  # noqa: N802
        return True


def _check(reply: Message | None, what: str) -> Message:
    assert reply is not None
    if reply.message_type == MessageType.ERROR:
        raise RuntimeError(f"{what}: {reply.error_name} {reply.body}")
    return reply


async def _call(bus: MessageBus, path: str, interface: str, member: str, signature: str = "", body: list[Any] | None = None,
                destination: str = BLUEZ) -> Message:
    reply = await bus.call(Message(destination=destination, path=path, interface=interface, member=member,
                                   signature=signature, body=body or []))
    return _check(reply, f"{interface}.{member} on {path}")


class Peripheral:
    """A scripted GATT peripheral on its own BlueZoo adapter. Its methods block until done."""

    def __init__(self, harness: PrivateBluez, spec: PeripheralSpec, index: int) -> None:
        self.harness, self.spec, self.index = harness, spec, index
        self.address, self.name = spec.address, spec.name
        self.adapter = f"hci{index}"
        self.writes: list[tuple[str, bytes]] = []  # (characteristic UUID, bytes) the central wrote
        self.confirmations = 0
        self.on_air = False
        self._was_on_air = False
        self._bus: MessageBus | None = None
        self._characteristics: dict[str, _GattCharacteristic] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.off_air = asyncio.Event()  # set when it leaves the air: ends what it left unanswered

    # -- from the test (any thread but the harness's) --

    def notify(self, uuid: str, data: bytes) -> None:
        """Sends `data` as a notification or indication of the characteristic `uuid` (the central
        must have subscribed: wait for `notifying(uuid)`)."""
        self.harness._run(self._notify(uuid, data))

    def notifying(self, uuid: str) -> bool:
        return self.on_air and self._characteristics[uuid].notifying

    def set_value(self, uuid: str, data: bytes) -> None:
        """What a read of `uuid` returns from now on (without notifying)."""
        self._spec_characteristic(uuid).value = data

    def vanish(self) -> None:
        """Out of range: no advertisement, no GATT server, the link dropped."""
        self.harness._run(self._off_air(drop_link=True))

    def drop_link(self) -> None:
        """The link drops (a supervision time-out) while the peripheral stays on the air."""
        self.harness._run(self._drop_link())

    def leave_subscriptions_unanswered(self, uuid: str) -> None:
        """A subscription to `uuid` is never answered from now on."""
        self._spec_characteristic(uuid).answers_subscription = False

    def come_back(self) -> None:
        """Back in range: advertising and serving again."""
        self.harness._run(self._on_air())

    # -- on the harness's loop --

    def _spec_characteristic(self, uuid: str) -> Characteristic:
        return next(c for s in self.spec.services for c in s.characteristics if c.uuid == uuid)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify(self, uuid: str, data: bytes) -> None:
        characteristic = self._characteristics[uuid]
        if not characteristic.notifying:
            raise RuntimeError(f"{self.name}: nobody subscribed to {uuid}")
        characteristic.send(data)

    async def send_now(self, uuid: str, data: bytes) -> None:
        """For `on_write` handlers, on the harness's loop: notify if subscribed."""
        characteristic = self._characteristics[uuid]
        if characteristic.notifying:
            characteristic.send(data)

    async def _on_air(self) -> None:
        if self.on_air:
            return
        self.off_air.clear()
        control = self.harness._control
        assert control is not None
        adapter_path = f"/org/bluez/{self.adapter}"
        reply = await control.call(Message(destination=BLUEZ, path="/org/bluezoo", interface="org.bluezoo.Manager1",
                                           member="AddAdapter", signature="ys", body=[self.index, self.address]))
        if reply is not None and reply.message_type == MessageType.ERROR and reply.error_name != "org.bluezoo.Error.AlreadyExists":
            _check(reply, "AddAdapter")
        bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        root = f"/telecart/peripheral{self.index}"
        self._characteristics = {}
        for s, service in enumerate(self.spec.services):
            service_path = f"{root}/service{s}"
            bus.export(service_path, _GattService(service.uuid))
            for c, spec in enumerate(service.characteristics):
                characteristic = _GattCharacteristic(self, spec, service_path)
                bus.export(f"{service_path}/char{c}", characteristic)
                self._characteristics[spec.uuid] = characteristic
        bus.export(f"{root}/advertisement", _Advertisement(self.spec))
        bus.add_message_handler(self._on_signal)
        await _call(bus, "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s",
                    [f"type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                     f"path_namespace='{adapter_path}'"], destination="org.freedesktop.DBus")
        await _call(bus, adapter_path, "org.bluez.GattManager1", "RegisterApplication", "oa{sv}", [root, {}])
        await _call(bus, adapter_path, "org.bluez.LEAdvertisingManager1", "RegisterAdvertisement", "oa{sv}",
                    [f"{root}/advertisement", {}])
        self._bus, self.on_air = bus, True

    def _on_signal(self, message: Message) -> None:
        """The peripheral's adapter sees the cart disconnect: subscriptions end, as bluetoothd does."""
        if (message.message_type == MessageType.SIGNAL and message.member == "PropertiesChanged"
                and message.body and message.body[0] == "org.bluez.Device1"):
            connected = message.body[1].get("Connected")
            if connected is not None and not connected.value:
                for characteristic in self._characteristics.values():
                    characteristic.set_notifying(False)

    async def _off_air(self, drop_link: bool) -> None:
        if not self.on_air:
            return
        self.on_air = False
        self.off_air.set()
        for characteristic in self._characteristics.values():
            characteristic.notifying = False
        bus, self._bus = self._bus, None
        if bus is not None:  # BlueZoo sees the name go: application and advertisement removed
            bus.disconnect()
            with contextlib.suppress(Exception):
                await bus.wait_for_disconnect()
        if drop_link:
            await self._drop_link()

    async def _drop_link(self) -> None:
        control = self.harness._control
        if control is not None:  # the link drops (a supervision time-out, for bleak)
            device = f"/org/bluez/{self.harness.cart_adapter}/dev_{self.address.replace(':', '_')}"
            await control.call(Message(destination=BLUEZ, path=device, interface="org.bluez.Device1", member="Disconnect"))

    def _forget_bus(self) -> None:
        """The bus or BlueZoo went away under the peripheral: it is off the air until put back."""
        self.on_air = False
        self.off_air.set()
        if self._bus is not None:
            self._bus.disconnect()
            self._bus = None


# --- The processes ------------------------------------------------------------------------------



def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


class PrivateBluez:
    """A private bus, BlueZoo on it and the scripted peripherals (see the module's docstring)."""

    cart_adapter = "hci0"
    cart_address = CART_ADDRESS

    def __init__(self, directory: Path, verbose: bool = False) -> None:
        self.directory, self.verbose = directory, verbose
        self.socket = directory / "system_bus_socket"
        self.address = f"unix:path={self.socket}"
        self.peripherals: list[Peripheral] = []
        self._dbus: subprocess.Popen[bytes] | None = None
        self._bluezoo: subprocess.Popen[bytes] | None = None
        self._control: MessageBus | None = None
        self._logs: list[Any] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="private bluez")

    # -- public --

    def add_peripheral(self, spec: PeripheralSpec, on_air: bool = True) -> Peripheral:
        peripheral = Peripheral(self, spec, len(self.peripherals) + 1)
        self.peripherals.append(peripheral)
        if on_air:
            peripheral.come_back()
        return peripheral

    def restart_bluezoo(self) -> None:
        """BlueZ (BlueZoo) stops and starts again: adapters come back, device objects and links are
        gone; the peripherals that were on the air register again."""
        self._run(self._drop_peripherals())
        was = [p for p in self.peripherals if p._was_on_air]
        _stop(self._bluezoo)
        self._start_bluezoo()
        for peripheral in was:
            peripheral.come_back()

    def stop_bluezoo(self) -> None:
        self._run(self._drop_peripherals())
        _stop(self._bluezoo)

    def restart_bus(self) -> None:
        """The D-Bus daemon itself restarts (same address), and BlueZoo with it."""
        self._run(self._drop_peripherals())
        was = [p for p in self.peripherals if p._was_on_air]
        self._run(self._close_control())
        _stop(self._bluezoo)
        _stop(self._dbus)
        self._start_bus()
        self._start_bluezoo()
        for peripheral in was:
            peripheral.come_back()

    def device_property(self, address: str, name: str) -> Any:
        """A property of the cart's device object for `address` (Device1), or None without one."""
        async def get() -> Any:
            assert self._control is not None
            path = f"/org/bluez/{self.cart_adapter}/dev_{address.replace(':', '_')}"
            reply = await self._control.call(Message(destination=BLUEZ, path=path, interface="org.freedesktop.DBus.Properties",
                                                     member="Get", signature="ss", body=["org.bluez.Device1", name]))
            if reply is None or reply.message_type == MessageType.ERROR:
                return None
            return reply.body[0].value
        return self._run(get())

    # -- lifecycle --

    def __enter__(self) -> PrivateBluez:
        self._thread.start()
        self._saved_address = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.address
        try:
            self._start_bus()
            self._start_bluezoo()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self._run(self._drop_peripherals(), timeout=10)
        with contextlib.suppress(Exception):
            self._run(self._close_control(), timeout=5)
        _stop(self._bluezoo)
        _stop(self._dbus)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        for file in self._logs:
            file.close()
        if self._saved_address is None:
            os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self._saved_address

    def _run(self, coro: Awaitable[_T], timeout: float = 20) -> _T:
        future: Future[_T] = asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]
        return future.result(timeout)

    def _log(self, name: str) -> Any:
        file = open(self.directory / name, "ab")
        self._logs.append(file)
        return file

    def _start_bus(self) -> None:
        self._dbus = start_bus(self.directory, self.socket, self._log("dbus.log"))

    def _start_bluezoo(self) -> None:
        root = str(Path(__file__).resolve().parents[2])  # this file runs as a script there: `tests` importable
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.address, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
        self._bluezoo = subprocess.Popen([sys.executable, __file__, "--auto-enable", "--scan-interval", "1", "-a", self.cart_address,
                                          *(["-vv"] if self.verbose else [])],
                                         env=env, stdout=subprocess.DEVNULL, stderr=self._log("bluezoo.log"))
        self._run(self._connect_control())

    async def _connect_control(self) -> None:
        await self._close_control()
        self._control = await MessageBus(bus_type=BusType.SYSTEM).connect()
        deadline = time.monotonic() + 10
        while True:  # BlueZoo up: its adapter answers
            reply = await self._control.call(Message(destination=BLUEZ, path=f"/org/bluez/{self.cart_adapter}",
                                                     interface="org.freedesktop.DBus.Properties", member="Get", signature="ss",
                                                     body=["org.bluez.Adapter1", "Powered"]))
            if reply is not None and reply.message_type != MessageType.ERROR and reply.body[0].value:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"BlueZoo did not start: {(self.directory / 'bluezoo.log').read_text()[-2000:]}")
            await asyncio.sleep(0.05)

    async def _close_control(self) -> None:
        if self._control is not None:
            self._control.disconnect()
            self._control = None

    async def _drop_peripherals(self) -> None:
        for peripheral in self.peripherals:
            peripheral._was_on_air = peripheral.on_air
            peripheral._forget_bus()


@contextlib.contextmanager
def private_bluez() -> Iterator[PrivateBluez]:
    """A private D-Bus with BlueZoo and the cart's adapter (`cart_adapter`); add peripherals with
    `add_peripheral`. Every process it started is stopped on the way out. With TELECART_BLUEZ_KEEP
    set, the directory (bus and BlueZoo logs, BlueZoo at debug level) is kept and its path logged."""
    if os.environ.get("TELECART_BLUEZ_KEEP"):
        directory = Path(tempfile.mkdtemp(prefix="bluez-"))
        log.warning("private BlueZ kept in %s", directory)
        with PrivateBluez(directory, verbose=True) as bluez:
            yield bluez
        return
    with tempfile.TemporaryDirectory(prefix="bluez-") as name, PrivateBluez(Path(name)) as bluez:
        yield bluez


# --- Health devices, with the specification's example bytes in the tests ----------------------------

BATTERY_SERVICE, BATTERY_LEVEL = sig_uuid(0x180F), sig_uuid(0x2A19)
RACP = sig_uuid(0x2A52)


def _battery(level: int) -> Service:
    return Service(BATTERY_SERVICE, [Characteristic(BATTERY_LEVEL, ("read", "notify"), bytes([level]))])


def blood_pressure_monitor(address: str, name: str = "BP Monitor", battery: int = 87) -> PeripheralSpec:
    return PeripheralSpec(address, name, [Service(sig_uuid(0x1810), [Characteristic(sig_uuid(0x2A35), ("indicate",)),
                                                                      Characteristic(sig_uuid(0x2A49), ("read",), b"\x00\x00")]),
                                          _battery(battery)], [sig_uuid(0x1810)])


def thermometer(address: str, name: str = "Thermometer", battery: int = 64) -> PeripheralSpec:
    return PeripheralSpec(address, name, [Service(sig_uuid(0x1809), [Characteristic(sig_uuid(0x2A1C), ("indicate",))]), _battery(battery)],
                          [sig_uuid(0x1809)])


def scale(address: str, name: str = "Scale", battery: int = 90) -> PeripheralSpec:
    return PeripheralSpec(address, name, [Service(sig_uuid(0x181D), [Characteristic(sig_uuid(0x2A9D), ("indicate",)),
                                                                      Characteristic(sig_uuid(0x2A9E), ("read",), b"\x00\x00\x00\x00")]),
                                          _battery(battery)], [sig_uuid(0x181D)])


def unrelated_device(address: str, name: str = "Clavier") -> PeripheralSpec:
    """A keyboard (Human Interface Device service): no health service."""
    return PeripheralSpec(address, name, [Service(sig_uuid(0x1812), [Characteristic(sig_uuid(0x2A4D), ("read", "notify"), b"\x00")])])


@dataclass
class GlucoseRecords:
    """A glucose meter's memory: Glucose Measurement payloads by sequence number, reported through
    the Record Access Control Point (op 0x01 "report stored records": operator 0x01 all, 0x03 greater
    than or equal to a sequence number, filter type 0x01) then a response indication (0x06, 0x00,
    request op, code: 0x01 success, 0x06 no records found, 0x02/0x03/0x04 unsupported op/operator)."""

    records: dict[int, bytes] = field(default_factory=dict)

    async def on_racp(self, peripheral: Peripheral, request: bytes) -> None:
        op, operator = request[0], request[1] if len(request) > 1 else 0
        if op != 0x01:
            return await peripheral.send_now(RACP, bytes([0x06, 0x00, op, 0x02]))
        if operator == 0x01:
            wanted = sorted(self.records)
        elif operator == 0x03 and len(request) >= 5 and request[2] == 0x01:
            first = int.from_bytes(request[3:5], "little")
            wanted = sorted(s for s in self.records if s >= first)
        else:
            return await peripheral.send_now(RACP, bytes([0x06, 0x00, op, 0x04 if operator in (0x02, 0x04, 0x05, 0x06) else 0x03]))
        for sequence in wanted:
            await peripheral.send_now(sig_uuid(0x2A18), self.records[sequence])
            await asyncio.sleep(0.01)
        await peripheral.send_now(RACP, bytes([0x06, 0x00, op, 0x01 if wanted else 0x06]))


def glucose_meter(address: str, records: GlucoseRecords, name: str = "Glucose Meter", battery: int = 50) -> PeripheralSpec:
    return PeripheralSpec(address, name, [Service(sig_uuid(0x1808), [
        Characteristic(sig_uuid(0x2A18), ("notify",)),
        Characteristic(sig_uuid(0x2A51), ("read",), b"\x00\x00"),
        Characteristic(RACP, ("write", "indicate"), on_write=records.on_racp)]), _battery(battery)], [sig_uuid(0x1808)])


def _bluezoo_main() -> None:
    """BlueZoo, with the two `Device` methods that differ from bluetoothd wrapped (module docstring)."""
    from bluezoo import bluezoo
    from bluezoo.adapter import Adapter
    from bluezoo.device import Device

    connect, disconnect, add_device = Device.connect, Device.disconnect, Adapter.add_device

    async def connect_once_advertising(self: Any, uuid: str | None = None) -> None:
        async def advertising() -> None:
            while not self.peer_adapter.advertisements:
                await asyncio.sleep(0.05)
        self.connecting_task = asyncio.ensure_future(advertising())  # what Disconnect cancels
        await self.connecting_task
        await connect(self, uuid)

    async def disconnect_dropping_gatt(self: Any, uuid: str | None = None) -> None:
        await disconnect(self, uuid)
        for link in reversed(list(self.services.values())):
            if hasattr(link, "client_props_changed_subscription"):
                link.client_props_changed_subscription.unsubscribe()
            with contextlib.suppress(KeyError):
                self.peer_adapter.mock.remove_object(link)
        self.services.clear()
        if self.services_resolved:
            await self.ServicesResolved.set_async(False)

    async def add_device_heard(self: Any, device: Any) -> None:
        if not device.is_le:  # not heard in a scan: the peer's view of a connecting central
            return await add_device(self, device)
        device.rssi = -40 - random.randrange(30)
        existing = self.devices.get(f"{self.get_object_path()}/dev_{device.address.replace(':', '_')}")
        await add_device(self, device)
        if existing is not None:
            existing.rssi = device.rssi
            existing.properties_changed.emit(("org.bluez.Device1", {"RSSI": ("n", device.rssi)}, []))

    Device.connect, Device.disconnect, Adapter.add_device = connect_once_advertising, disconnect_dropping_gatt, add_device_heard
    bluezoo.main()


if __name__ == "__main__":
    _bluezoo_main()


# DBusError is re-exported for handlers that want to refuse a request the way BlueZ would.
__all__ = ["CART_ADDRESS", "RACP", "Characteristic", "DBusError", "GlucoseRecords", "Peripheral", "PeripheralSpec", "PrivateBluez",
           "Service", "Variant", "blood_pressure_monitor", "glucose_meter", "private_bluez", "scale", "sig_uuid", "thermometer",
           "unrelated_device"]
