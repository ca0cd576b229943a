"""The cart's network as the technician's page shows and sets it, through NetworkManager's D-Bus
API (the system bus; dbus-fast, already the agent's for Bluetooth), never shell scripts: each
interface (wired, Wi-Fi, 4G modem) with its state and address, the Wi-Fi networks in range, and
joining one (WPA-PSK, or open) or a mobile network (its APN).

NetworkManager keeps what it is given (a connection profile per network) and reconnects by
itself after a reboot; the agent keeps nothing. Without NetworkManager (a development machine),
every call says so in French rather than failing."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # dbus_fast (about 3.7 MiB) is imported when a technician first asks, not at start
    from dbus_fast import Variant
    from dbus_fast.aio import MessageBus

NM = "org.freedesktop.NetworkManager"
NM_PATH = "/org/freedesktop/NetworkManager"
PROPERTIES = "org.freedesktop.DBus.Properties"

DEVICE_TYPES = {1: "filaire", 2: "Wi-Fi", 8: "4G (modem)"}  # NM_DEVICE_TYPE_*: the others (loopback, bridges) are not shown
DEVICE_STATES = {10: "non géré", 20: "indisponible", 30: "déconnecté", 40: "préparation", 50: "configuration", 60: "authentification",
                 70: "obtention d'une adresse", 80: "vérification", 90: "connexion", 100: "connecté", 110: "déconnexion", 120: "échec"}
CONNECTIVITY = {0: "inconnue", 1: "aucune", 2: "portail captif (page de connexion du réseau)", 3: "limitée (pas d'accès à Internet)", 4: "Internet"}
WIFI = 2
MODEM = 8


class NetworkError(Exception):
    """NetworkManager could not be asked or refused: the message is French, for the technician."""


@dataclass(frozen=True)
class WifiNetwork:
    ssid: str
    strength: int  # %
    secured: bool
    path: str


def _plain(value: Any) -> Any:
    from dbus_fast import Variant

    return value.value if isinstance(value, Variant) else value


class NetworkManager:
    """One short-lived connection to the system bus per question: the page asks rarely."""

    async def _bus(self) -> MessageBus:
        from dbus_fast import BusType
        from dbus_fast.aio import MessageBus

        try:
            return await MessageBus(bus_type=BusType.SYSTEM).connect()
        except (OSError, ValueError) as error:
            raise NetworkError("NetworkManager est injoignable (pas de bus système) : le réseau se règle sur le chariot lui-même.") from error

    async def _call(self, bus: MessageBus, path: str, interface: str, member: str, signature: str = "", body: list[Any] | None = None) -> list[Any]:
        from dbus_fast import Message, MessageType

        reply = await bus.call(Message(destination=NM, path=path, interface=interface, member=member, signature=signature, body=body or []))
        if reply is None or reply.message_type == MessageType.ERROR:
            said = (reply.body[0] if reply and reply.body else "") if reply else ""
            if reply is not None and reply.error_name == "org.freedesktop.DBus.Error.ServiceUnknown":
                raise NetworkError("NetworkManager ne fonctionne pas sur ce chariot.")
            raise NetworkError(f"NetworkManager a refusé : {said or (reply.error_name if reply else 'pas de réponse')}")
        return reply.body

    async def _props(self, bus: MessageBus, path: str, interface: str) -> dict[str, Any]:
        (found,) = await self._call(bus, path, PROPERTIES, "GetAll", "s", [interface])
        return {k: _plain(v) for k, v in found.items()}

    async def overview(self) -> dict[str, Any]:
        """The network's state, and each wired, Wi-Fi and modem interface with its address."""
        bus = await self._bus()
        try:
            nm = await self._props(bus, NM_PATH, NM)
            devices = []
            for path in nm.get("AllDevices") or nm.get("Devices") or []:
                device = await self._props(bus, path, f"{NM}.Device")
                kind = device.get("DeviceType")
                if kind not in DEVICE_TYPES:
                    continue
                devices.append(await self._device(bus, path, device, kind))
            return {"state": CONNECTIVITY.get(nm.get("Connectivity", 0), "inconnue"), "networking": bool(nm.get("NetworkingEnabled", True)),
                    "devices": devices}
        finally:
            bus.disconnect()

    async def _device(self, bus: MessageBus, path: str, device: dict[str, Any], kind: int) -> dict[str, Any]:
        connection = None
        if (active := device.get("ActiveConnection")) not in (None, "/"):
            with contextlib.suppress(NetworkError):
                connection = (await self._props(bus, active, f"{NM}.Connection.Active")).get("Id")
        addresses: list[str] = []
        if (ip4 := device.get("Ip4Config")) not in (None, "/"):
            with contextlib.suppress(NetworkError):
                data = (await self._props(bus, ip4, f"{NM}.IP4Config")).get("AddressData") or []
                addresses = [f"{_plain(a['address'])}/{_plain(a['prefix'])}" for a in data]
        said = {"path": path, "interface": device.get("Interface", "?"), "kind": DEVICE_TYPES[kind], "wifi": kind == WIFI, "modem": kind == MODEM,
                "state": DEVICE_STATES.get(device.get("State", 0), "inconnu"), "connected": device.get("State") == 100,
                "connection": connection, "addresses": addresses, "signal": None}
        if kind == WIFI:
            wireless = await self._props(bus, path, f"{NM}.Device.Wireless")
            if (ap := wireless.get("ActiveAccessPoint")) not in (None, "/"):
                with contextlib.suppress(NetworkError):
                    said["signal"] = (await self._props(bus, ap, f"{NM}.AccessPoint")).get("Strength")
        return said

    async def wifi_networks(self, device_path: str) -> list[WifiNetwork]:
        """The networks in range, strongest first, one line per name (the strongest of its access points)."""
        bus = await self._bus()
        try:
            with contextlib.suppress(NetworkError):  # a scan refused (one just ran): the last results stand
                await self._call(bus, device_path, f"{NM}.Device.Wireless", "RequestScan", "a{sv}", [{}])
            (paths,) = await self._call(bus, device_path, f"{NM}.Device.Wireless", "GetAllAccessPoints")
            best: dict[str, WifiNetwork] = {}
            for path in paths:
                ap = await self._props(bus, path, f"{NM}.AccessPoint")
                ssid = bytes(ap.get("Ssid") or b"").decode("utf-8", errors="replace")
                if not ssid:
                    continue  # a hidden network: joined by name on the cart only
                found = WifiNetwork(ssid, int(ap.get("Strength", 0)), bool(ap.get("WpaFlags") or ap.get("RsnFlags") or ap.get("Flags")), path)
                if ssid not in best or found.strength > best[ssid].strength:
                    best[ssid] = found
            return sorted(best.values(), key=lambda n: -n.strength)
        finally:
            bus.disconnect()

    async def join_wifi(self, device_path: str, network: WifiNetwork, password: str) -> str:
        """A connection profile made and activated (NetworkManager keeps it and reconnects by
        itself); the active connection's path."""
        from dbus_fast import Variant

        settings: dict[str, dict[str, Variant]] = {
            "connection": {"id": Variant("s", network.ssid), "uuid": Variant("s", str(uuid.uuid4())), "type": Variant("s", "802-11-wireless"),
                           "autoconnect": Variant("b", True)},
            "802-11-wireless": {"ssid": Variant("ay", network.ssid.encode()), "mode": Variant("s", "infrastructure")},
            "ipv4": {"method": Variant("s", "auto")},
        }
        if network.secured:
            settings["802-11-wireless-security"] = {"key-mgmt": Variant("s", "wpa-psk"), "psk": Variant("s", password)}
        return await self._add_and_activate(settings, device_path, network.path)

    async def join_mobile(self, device_path: str, apn: str) -> str:
        from dbus_fast import Variant

        settings = {"connection": {"id": Variant("s", f"4G {apn}"), "uuid": Variant("s", str(uuid.uuid4())), "type": Variant("s", "gsm"),
                                   "autoconnect": Variant("b", True)},
                    "gsm": {"apn": Variant("s", apn)}, "ipv4": {"method": Variant("s", "auto")}}
        return await self._add_and_activate(settings, device_path, "/")

    async def _add_and_activate(self, settings: dict[str, dict[str, Variant]], device_path: str, specific: str) -> str:
        bus = await self._bus()
        try:
            _, active = await self._call(bus, NM_PATH, NM, "AddAndActivateConnection", "a{sa{sv}}oo", [settings, device_path, specific])
            return str(active)
        finally:
            bus.disconnect()
