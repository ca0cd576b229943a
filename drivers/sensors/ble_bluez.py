"""What the cart asks of BlueZ beside bleak, through BlueZ's own D-Bus API on the system bus: a
pairing agent, and the device objects BlueZ already holds.

- The agent (org.bluez.Agent1, capability NoInputNoOutput): the cart has no keypad for a PIN, so it
  pairs "Just Works" and refuses a PIN or passkey entry; it is registered, and made the default,
  before each pairing (BlueZ forgets agents when it restarts).
- `on_gone`: bluetoothd stopping ends every link, but bleak hears nothing of it (it follows BlueZ's
  signals, and the bus only): the owner of `org.bluez` leaving the bus is told here.
- `known_device`: a paired device that is asleep does not advertise, yet BlueZ connects to it as soon
  as it wakes when asked to (its object stays, with its bond). bleak connects to a `BLEDevice`
  whose details are the object's path and its Device1 properties, as its BlueZ backend builds them
  from a scan.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from bleak.backends.device import BLEDevice
from dbus_fast import BusType, Message, MessageType, unpack_variants
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusObjectPath, DBusStr, DBusUInt16, DBusUInt32
from dbus_fast.errors import DBusError
from dbus_fast.service import ServiceInterface, dbus_method

log = logging.getLogger(__name__)

BLUEZ = "org.bluez"
AGENT_PATH = "/telecart/agent"
REJECTED = "org.bluez.Error.Rejected"


class PairingAgent(ServiceInterface):
    """Accepts Just Works pairing and service authorisation; refuses PIN and passkey entry."""

    def __init__(self) -> None:
        super().__init__("org.bluez.Agent1")

    @dbus_method()
    def Release(self):  # noqa: N802 (BlueZ's names)
        pass

    @dbus_method()
    def RequestPinCode(self, device: DBusObjectPath) -> DBusStr:  # noqa: N802
        raise DBusError(REJECTED, "pas de clavier sur le chariot")

    @dbus_method()
    def DisplayPinCode(self, device: DBusObjectPath, pincode: DBusStr):  # noqa: N802
        pass

    @dbus_method()
    def RequestPasskey(self, device: DBusObjectPath) -> DBusUInt32:  # noqa: N802
        raise DBusError(REJECTED, "pas de clavier sur le chariot")

    @dbus_method()
    def DisplayPasskey(self, device: DBusObjectPath, passkey: DBusUInt32, entered: DBusUInt16):  # noqa: N802
        pass

    @dbus_method()
    def RequestConfirmation(self, device: DBusObjectPath, passkey: DBusUInt32):  # noqa: N802
        pass

    @dbus_method()
    def RequestAuthorization(self, device: DBusObjectPath):  # noqa: N802
        pass

    @dbus_method()
    def AuthorizeService(self, device: DBusObjectPath, uuid: DBusStr):  # noqa: N802
        pass

    @dbus_method()
    def Cancel(self):  # noqa: N802
        pass


class BlueZ:
    """One connection to the system bus, opened when first needed and again after the bus went."""

    def __init__(self, adapter: str | None, on_gone: Callable[[], None] | None = None) -> None:
        self.adapter, self.on_gone = adapter, on_gone
        self._bus: MessageBus | None = None

    async def _connected(self) -> MessageBus:
        if self._bus is None or not self._bus.connected:
            if self._bus is not None:
                self._bus.disconnect()
            self._bus = None
            bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
            bus.export(AGENT_PATH, PairingAgent())
            bus.add_message_handler(self._on_signal)
            reply = await bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                                           interface="org.freedesktop.DBus", member="AddMatch", signature="s",
                                           body=[f"type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='{BLUEZ}'"]))
            if reply is None or reply.message_type == MessageType.ERROR:
                bus.disconnect()
                raise DBusError("org.freedesktop.DBus.Error.Failed", "AddMatch NameOwnerChanged")
            self._bus = bus
        return self._bus

    def _on_signal(self, message: Message) -> None:
        if (message.message_type == MessageType.SIGNAL and message.member == "NameOwnerChanged"
                and message.body[0] == BLUEZ and not message.body[2] and self.on_gone is not None):
            self.on_gone()

    async def _call(self, path: str, interface: str, member: str, signature: str = "", body: list[Any] | None = None) -> Message:
        bus = await self._connected()
        reply = await bus.call(Message(destination=BLUEZ, path=path, interface=interface, member=member,
                                       signature=signature, body=body or []))
        assert reply is not None
        return reply

    async def register_agent(self) -> None:
        """The cart's agent, default for pairing. Raises DBusError when BlueZ refuses it."""
        reply = await self._call("/org/bluez", "org.bluez.AgentManager1", "RegisterAgent", "os", [AGENT_PATH, "NoInputNoOutput"])
        if reply.message_type == MessageType.ERROR and reply.error_name != "org.bluez.Error.AlreadyExists":
            raise DBusError(reply.error_name or "org.bluez.Error.Failed", str(reply.body))
        reply = await self._call("/org/bluez", "org.bluez.AgentManager1", "RequestDefaultAgent", "o", [AGENT_PATH])
        if reply.message_type == MessageType.ERROR:
            log.info("BlueZ did not make the cart's agent the default one: %s %s", reply.error_name, reply.body)

    async def known_device(self, address: str) -> BLEDevice | None:
        """The device object BlueZ holds for `address` on the cart's adapter, or None."""
        reply = await self._call("/", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects")
        if reply.message_type == MessageType.ERROR:
            raise DBusError(reply.error_name or "org.freedesktop.DBus.Error.Failed", str(reply.body))
        for path, interfaces in reply.body[0].items():
            props = interfaces.get("org.bluez.Device1")
            if props is None or props["Address"].value.upper() != address.upper():
                continue
            if self.adapter is not None and not path.startswith(f"/org/bluez/{self.adapter}/"):
                continue
            unpacked = unpack_variants(props)
            return BLEDevice(unpacked["Address"], unpacked.get("Alias") or unpacked.get("Name"), {"path": path, "props": unpacked})
        return None

    async def close(self) -> None:
        if self._bus is not None:
            with contextlib.suppress(Exception):
                self._bus.disconnect()
            self._bus = None
