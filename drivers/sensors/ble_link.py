"""The cart's Bluetooth Low Energy vital-sign devices, kept connected on the agent's asyncio loop
through bleak's BlueZ backend: scanned for by their health service, paired (Just Works, the cart's
own agent: `ble_bluez.py`), then held connected with exponential back-off. On each connection every
health measurement characteristic present is subscribed to (notifications and indications alike),
its bytes decoded by `ble_health.DECODERS`; the Battery Level is read (and followed when it
notifies); a device with a Record Access Control Point (glucose meters) is asked for the records
stored since the last one seen.

States, each change told to `on_state(address, state, reason)` with a short French sentence:
connecting (first attempt) → connected → absent (the link dropped; it is out of range or asleep)
or error (Bluetooth unavailable, pairing refused, a fault); retried after 1, 2, 4 … 60 s, the
back-off starting again after each connection. BlueZ or its bus going away and coming back is one
more reason to retry: nothing here raises into the agent's loop, and the callbacks' own exceptions
are logged, not propagated. When BlueZ leaves the bus, bleak is made to forget the objects it had
read from it (`_bleak_forgets_bluez`): otherwise it would go on building a device's services from
the old GATT object paths, which no longer exist.

Sources: bleak 3.1 (`BleakClient`, `BleakScanner`; a `BLEDevice` rather than an address for
connecting, as its documentation advises); Bluetooth SIG Glucose Profile 1.0 §4.9 (Record Access
Control Point: op codes, operators, filter types, response codes); BlueZ's D-Bus error names.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from drivers.sensors import ble_health
from drivers.sensors.readings import DecodeError, Measurement

# bleak (and dbus_fast, with ble_bluez) is not imported with this module, which the agent imports at
# start, but by `load_bleak` when a link is first opened, a scan made or a device forgotten (issue 16):
# a cart with Bluetooth off or nothing paired never loads it. The functions using it import it there.
if TYPE_CHECKING:
    from bleak import BleakClient, BleakScanner
    from bleak.backends.characteristic import BleakGATTCharacteristic
    from bleak.backends.device import BLEDevice
    from bleak.backends.scanner import AdvertisementData

    from drivers.sensors.ble_bluez import BlueZ

log = logging.getLogger(__name__)

_BLEAK_MODULES = ("bleak", "bleak.exc", "bleak.backends.bluezdbus.manager", "dbus_fast.errors", "drivers.sensors.ble_bluez")
_bleak_loaded = False


async def load_bleak() -> None:
    """bleak, its BlueZ backend, dbus_fast and ble_bluez imported once, in a worker thread: the
    agent's loop goes on meanwhile."""
    global _bleak_loaded
    if not _bleak_loaded:
        await asyncio.to_thread(lambda: [importlib.import_module(name) for name in _BLEAK_MODULES])
        _bleak_loaded = True


def sig_uuid(short: int) -> str:
    return f"{short:08x}-0000-1000-8000-00805f9b34fb"


HEALTH_SERVICES: dict[str, str] = {  # service UUID → kind, in the order a device offering several is named
    sig_uuid(0x1810): "blood_pressure", sig_uuid(0x1822): "oximeter", sig_uuid(0x1808): "glucose_meter",
    sig_uuid(0x1809): "thermometer", sig_uuid(0x181D): "scale", sig_uuid(0x181B): "scale", sig_uuid(0x180D): "heart_rate",
}
BATTERY_LEVEL = sig_uuid(0x2A19)
RACP = sig_uuid(0x2A52)

OUT_OF_RANGE = "Appareil hors de portée ou éteint"
DISCONNECTED = "Appareil déconnecté : éteint ou hors de portée"
PAIRING_REFUSED = "Appairage refusé par l'appareil"
BLUETOOTH_UNAVAILABLE = "Bluetooth indisponible sur le chariot"
NO_HEALTH_SERVICE = "Cet appareil n'offre aucune mesure de santé connue"
UNEXPECTED = "Erreur Bluetooth inattendue"

_UNAVAILABLE_DBUS = {"org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner",
                     "org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.Disconnected",
                     "org.freedesktop.DBus.Error.NoServer", "org.freedesktop.DBus.Error.FileNotFound",
                     "org.freedesktop.DBus.Error.Spawn.ServiceNotFound", "org.bluez.Error.NotReady"}
_PAIRING_DBUS = {"org.bluez.Error.AuthenticationFailed", "org.bluez.Error.AuthenticationRejected",
                 "org.bluez.Error.AuthenticationCanceled", "org.bluez.Error.AuthenticationTimeout",
                 "org.bluez.Error.NotAuthorized", "org.bluez.Error.Rejected"}
_PAIRING_GATT = {0x05, 0x08, 0x0C, 0x0F}  # insufficient authentication, authorization, key size, encryption
_PAIRING_NOT_NEEDED = {"org.bluez.Error.AlreadyExists", "org.bluez.Error.NotSupported"}


class BleError(Exception):
    """What `scan` and `pair` raise: a state and the sentence a nurse reads."""

    def __init__(self, state: str, reason: str) -> None:
        super().__init__(reason)
        self.state, self.reason = state, reason


def explain(error: BaseException) -> tuple[str, str]:
    """(state, reason) for an error of bleak, BlueZ or the bus."""
    if isinstance(error, BleError):
        return error.state, error.reason
    from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError, BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
    from dbus_fast.errors import DBusError

    if isinstance(error, (BleakDeviceNotFoundError, TimeoutError)):
        return "absent", OUT_OF_RANGE
    if isinstance(error, BleakBluetoothNotAvailableError):
        return "error", BLUETOOTH_UNAVAILABLE
    if isinstance(error, BleakGATTProtocolError):
        return ("error", PAIRING_REFUSED) if int(error.code) in _PAIRING_GATT else ("error", UNEXPECTED)
    name = error.dbus_error if isinstance(error, BleakDBusError) else error.type if isinstance(error, DBusError) else None
    if name is not None:
        if name == "org.freedesktop.DBus.Error.UnknownObject":  # the device's GATT objects, gone with its link
            return "absent", OUT_OF_RANGE
        if name in _UNAVAILABLE_DBUS or name.startswith("org.freedesktop.DBus.Error."):
            return "error", BLUETOOTH_UNAVAILABLE
        if name in _PAIRING_DBUS:
            return "error", PAIRING_REFUSED
        return "absent", OUT_OF_RANGE  # org.bluez.Error.Failed, InProgress, ConnectionAttemptFailed, le-connection-abort…
    if isinstance(error, (OSError, EOFError)):  # the bus's socket gone or refused
        return "error", BLUETOOTH_UNAVAILABLE
    if isinstance(error, BleakError) and "not found" in str(error):  # "adapter 'hci0' not found"
        return "error", BLUETOOTH_UNAVAILABLE
    return "error", UNEXPECTED


@dataclass(frozen=True)
class BleDevice:
    """A device the cart knows (paired); the agent persists these."""

    address: str
    name: str
    kind: str  # oximeter | blood_pressure | thermometer | scale | glucose_meter | heart_rate
    services: tuple[str, ...]  # health service UUIDs seen


@dataclass(frozen=True)
class Found:
    """A scan result."""

    address: str
    name: str
    kind: str
    rssi: int | None
    services: tuple[str, ...]


def health_services(uuids: Iterable[str]) -> tuple[str, ...]:
    found = {u.lower() for u in uuids}
    return tuple(u for u in HEALTH_SERVICES if u in found)


def kind_of(services: Iterable[str]) -> str | None:
    return next((HEALTH_SERVICES[u] for u in health_services(services)), None)


# --- Record Access Control Point (Glucose Profile 1.0 §4.9) ----------------------------------------

RACP_REPORT, RACP_RESPONSE = 0x01, 0x06
RACP_ALL, RACP_GREATER_OR_EQUAL = 0x01, 0x03
RACP_FILTER_SEQUENCE = 0x01
RACP_CODES = {0x01: "success", 0x02: "op code not supported", 0x03: "invalid operator", 0x04: "operator not supported",
              0x05: "invalid operand", 0x06: "no records found", 0x07: "abort unsuccessful", 0x08: "procedure not completed",
              0x09: "operand not supported"}


def racp_request(after: int | None) -> bytes:
    """"Report stored records": all of them, or those from the sequence number after `after`."""
    if after is None or after >= 0xFFFF:
        return bytes([RACP_REPORT, RACP_ALL])
    return bytes([RACP_REPORT, RACP_GREATER_OR_EQUAL, RACP_FILTER_SEQUENCE]) + (after + 1).to_bytes(2, "little")


def racp_response(data: bytes) -> tuple[int, int] | None:
    """(request op code, response code) of a response indication, else None."""
    if len(data) >= 4 and data[0] == RACP_RESPONSE:
        return data[2], data[3]
    return None


def _bleak_forgets_bluez() -> None:
    """bleak's BlueZ manager (one per event loop) mirrors BlueZ's object tree from its signals and
    clears it only when its own bus connection is lost (bleak 3.1). When bluetoothd alone restarts,
    the bus stays, the old daemon's objects are never said removed, and the manager keeps them: a
    device's next connection gets its services from every GATT object path it ever saw there, the
    old daemon's ones included (a service or characteristic numbered `service0005/char0006` by a
    reconnection before the restart, while the new daemon numbers from the start again), and the
    first StartNotify on one fails with UnknownObject at every retry. Closing that bus connection
    makes bleak run its own recovery for a lost bus: state cleared, its clients told they are
    disconnected, BlueZ's objects read afresh (GetManagedObjects) when next used. bleak has no
    public call for this; if its internals change, this says so in the log and does nothing."""
    from bleak.backends.bluezdbus import manager as bleak_bluez

    try:
        manager = bleak_bluez._global_instances.get(asyncio.get_running_loop())
        bus = manager._bus if manager is not None else None
    except AttributeError as error:
        log.warning("Bluetooth sensors: bleak's BlueZ state could not be cleared (%s)", error)
        return
    if bus is not None and bus.connected:
        bus.disconnect()


# --- One shared discovery ---------------------------------------------------------------------------

Listener = Callable[["BLEDevice", "AdvertisementData"], None]


class _Discovery:
    """One BlueZ discovery at a time for the whole manager (bluetoothd refuses a second one from
    the same client), shared by `scan` and the reconnections that look for a device; a listener
    joining a discovery already running first hears what it has seen."""

    def __init__(self, adapter: str | None) -> None:
        self.adapter = adapter
        self._listeners: set[Listener] = set()
        self._seen: dict[str, tuple[BLEDevice, AdvertisementData]] = {}
        self._scanner: BleakScanner | None = None
        self._users = 0
        self._lock = asyncio.Lock()

    def _detected(self, device: BLEDevice, advertisement: AdvertisementData) -> None:
        self._seen[device.address.upper()] = (device, advertisement)
        for listener in list(self._listeners):
            listener(device, advertisement)

    @contextlib.asynccontextmanager
    async def listening(self, listener: Listener) -> AsyncIterator[None]:
        await load_bleak()
        from bleak import BleakScanner

        async with self._lock:
            if self._scanner is None:
                self._seen.clear()
                scanner = BleakScanner(self._detected, bluez={"adapter": self.adapter} if self.adapter else {})
                await scanner.start()
                self._scanner = scanner
            self._users += 1
            for device, advertisement in list(self._seen.values()):
                listener(device, advertisement)
            self._listeners.add(listener)
        try:
            yield
        finally:
            self._listeners.discard(listener)
            async with self._lock:
                self._users -= 1
                if self._users == 0 and self._scanner is not None:
                    scanner, self._scanner = self._scanner, None
                    with contextlib.suppress(Exception):
                        await scanner.stop()


# --- The manager ------------------------------------------------------------------------------------

@dataclass
class _Link:
    device: BleDevice
    state: str = "connecting"
    reason: str | None = None
    task: asyncio.Task[None] | None = None
    client: BleakClient | None = None
    dropped: asyncio.Event = field(default_factory=asyncio.Event)
    last_sequence: int | None = None  # of the glucose records handed over
    racp_answer: asyncio.Future[tuple[int, int]] | None = None
    calls: asyncio.Timeout | None = None  # the session's GATT calls in flight (`gatt_calls`)

    @contextlib.asynccontextmanager
    async def gatt_calls(self, seconds: float | None) -> AsyncIterator[None]:
        """GATT calls given up with TimeoutError after `seconds`, or as soon as the link drops: bleak
        leaves a call in flight waiting for BlueZ's answer when the link drops under it (a StartNotify
        that never came back held a session at « connecting » through the device's going and coming)."""
        async with asyncio.timeout(seconds) as self.calls:
            try:
                if self.dropped.is_set():
                    self.calls.reschedule(asyncio.get_running_loop().time())
                yield
            finally:
                self.calls = None

    def drop(self, dropped: asyncio.Event) -> None:
        """The connection of `dropped` dropped (a late word of an earlier connection changes nothing)."""
        dropped.set()
        if dropped is self.dropped and self.calls is not None and not self.calls.expired():
            self.calls.reschedule(asyncio.get_running_loop().time())


class BleSensors:
    def __init__(self, known: Iterable[BleDevice], on_measurement: Callable[[str, Measurement], None],
                 on_state: Callable[[str, str, str | None], None], on_battery: Callable[[str, int], None],
                 adapter: str | None = None, backoff: tuple[float, float] = (1.0, 60.0), timeout: float = 20.0) -> None:
        """`timeout`: how long one connection attempt (or the search for a device) may take."""
        self.on_measurement, self.on_state, self.on_battery = on_measurement, on_state, on_battery
        self.adapter, self.backoff, self.timeout = adapter, backoff, timeout
        self._links: dict[str, _Link] = {d.address.upper(): _Link(d) for d in known}
        self._bluez_link: BlueZ | None = None  # made with the first link, scan or forgetting (load_bleak)
        self._discovery = _Discovery(adapter)
        self._started = False

    # -- the contract --

    async def start(self) -> None:
        """Connects to every known device in the background."""
        self._started = True
        for link in self._links.values():
            self._say(link, "connecting", None)
            self._launch(link)

    async def stop(self) -> None:
        self._started = False
        tasks = [link.task for link in self._links.values() if link.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._bluez_link is not None:
            await self._bluez_link.close()

    async def scan(self, seconds: float = 5.0) -> list[Found]:
        """The devices offering a health service heard for `seconds`, the nearest first. Raises
        BleError when Bluetooth is unavailable."""
        found: dict[str, Found] = {}

        def heard(device: BLEDevice, advertisement: AdvertisementData) -> None:
            services = health_services(advertisement.service_uuids)
            if services:
                address = device.address.upper()
                found[address] = Found(address, advertisement.local_name or device.name or address, HEALTH_SERVICES[services[0]],
                                       advertisement.rssi, services)

        try:
            async with self._discovery.listening(heard):
                await asyncio.sleep(seconds)
        except Exception as error:
            raise BleError(*explain(error)) from error
        return sorted(found.values(), key=lambda f: -(f.rssi if f.rssi is not None else -999))

    async def pair(self, address: str) -> BleDevice:
        """Connects, pairs (tolerating a device that needs no pairing), learns its health services,
        then keeps it connected like the known ones. Raises BleError (out of range, pairing refused,
        Bluetooth unavailable, no health service)."""
        address = address.upper()
        previous = self._links.get(address)
        if previous is not None and previous.state == "connected":
            return previous.device
        if previous is not None and previous.task is not None:
            previous.task.cancel()
            await asyncio.gather(previous.task, return_exceptions=True)
        link = _Link(BleDevice(address, address, "", ()))
        client: BleakClient | None = None
        try:
            client = await self._connect(link, pair=True)
            services = health_services(s.uuid for s in client.services)
            if not services:
                raise BleError("error", NO_HEALTH_SERVICE)
            name = client.name or (previous.device.name if previous else address)
            link.device = BleDevice(address, name, HEALTH_SERVICES[services[0]], services)
        except BaseException as error:
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.disconnect()
            if previous is not None and self._started:
                self._launch(previous)
            if isinstance(error, Exception) and not isinstance(error, BleError):
                raise BleError(*explain(error)) from error
            raise
        self._links[address] = link
        self._launch(link, client)
        return link.device

    async def forget(self, address: str) -> None:
        """Stops following the device, disconnects it and removes its pairing from BlueZ."""
        link = self._links.pop(address.upper(), None)
        if link is None:
            return
        if link.task is not None:
            link.task.cancel()
            await asyncio.gather(link.task, return_exceptions=True)
        with contextlib.suppress(Exception):
            device = await (await self._bluez()).known_device(link.device.address)
            if device is not None:
                from bleak import BleakClient

                await BleakClient(device, bluez=self._bluez_args()).unpair()

    def state(self, address: str) -> str:
        link = self._links.get(address.upper())
        return link.state if link is not None else "absent"

    # -- more for the agent --

    def known(self) -> list[BleDevice]:
        return [link.device for link in self._links.values()]

    def reason(self, address: str) -> str | None:
        link = self._links.get(address.upper())
        return link.reason if link is not None else None

    def last_sequence(self, address: str) -> int | None:
        """The sequence number of the last stored record handed over (glucose meters)."""
        link = self._links.get(address.upper())
        return link.last_sequence if link is not None else None

    # -- inside --

    async def _bluez(self) -> BlueZ:
        if self._bluez_link is None:
            await load_bleak()
            from drivers.sensors.ble_bluez import BlueZ

            if self._bluez_link is None:  # not made by another caller meanwhile
                self._bluez_link = BlueZ(self.adapter, on_gone=self._bluez_gone)
        return self._bluez_link

    def _bluez_args(self) -> dict[str, str]:
        return {"adapter": self.adapter} if self.adapter else {}

    def _say(self, link: _Link, state: str, reason: str | None) -> None:
        if (state, reason) == (link.state, link.reason) and state != "connecting":
            return
        link.state, link.reason = state, reason
        self._tell(self.on_state, link.device.address, state, reason)

    def _tell(self, callback: Callable[..., None], *args: object) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("Bluetooth sensors: the agent's callback %s failed", getattr(callback, "__name__", callback))

    def _bluez_gone(self) -> None:
        """bluetoothd left the bus: every link went with it, though bleak was not told; bleak forgets
        the objects it had read from it."""
        log.warning("Bluetooth sensors: BlueZ stopped")
        _bleak_forgets_bluez()
        for link in self._links.values():
            if link.client is not None:
                link.drop(link.dropped)

    def _launch(self, link: _Link, client: BleakClient | None = None) -> None:
        link.task = asyncio.get_running_loop().create_task(self._keep_connected(link, client), name=f"ble {link.device.address}")

    async def _keep_connected(self, link: _Link, client: BleakClient | None) -> None:
        delay = self.backoff[0]
        while True:
            try:
                await self._session(link, client)
                self._say(link, "absent", DISCONNECTED)
                delay = self.backoff[0]
            except asyncio.CancelledError:
                raise
            except Exception as error:  # never into the agent's loop
                state, reason = explain(error)
                if reason == UNEXPECTED:
                    log.exception("Bluetooth sensor %s", link.device.address)
                else:
                    log.info("Bluetooth sensor %s: %s (%r)", link.device.address, reason, error)
                self._say(link, state, reason)
            client = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.backoff[1])

    async def _locate(self, address: str) -> BLEDevice:
        """BlueZ's object for the device (a paired device asleep is reached through it), else the
        device heard by a discovery within the time-out."""
        device = await (await self._bluez()).known_device(address)
        if device is not None:
            return device
        heard: asyncio.Future[BLEDevice] = asyncio.get_running_loop().create_future()

        def listener(candidate: BLEDevice, advertisement: AdvertisementData) -> None:
            if candidate.address.upper() == address and not heard.done():
                heard.set_result(candidate)

        async with self._discovery.listening(listener):
            try:
                async with asyncio.timeout(self.timeout):
                    return await heard
            except TimeoutError:
                raise BleError("absent", OUT_OF_RANGE) from None

    async def _connect(self, link: _Link, pair: bool = False) -> BleakClient:
        device = await self._locate(link.device.address)  # bleak loaded by then
        from bleak import BleakClient

        link.dropped = dropped = asyncio.Event()
        client = BleakClient(device, lambda _: link.drop(dropped), timeout=self.timeout, bluez=self._bluez_args())
        await client.connect()
        if pair:
            try:
                await self._pair(client)
            except BaseException:
                with contextlib.suppress(Exception):
                    await client.disconnect()
                raise
        return client

    async def _pair(self, client: BleakClient) -> None:
        from bleak.exc import BleakDBusError
        from dbus_fast.errors import DBusError

        try:
            await (await self._bluez()).register_agent()
            await client.pair()
        except (BleakDBusError, DBusError) as error:
            name = error.dbus_error if isinstance(error, BleakDBusError) else error.type
            if name not in _PAIRING_NOT_NEEDED:
                raise
            log.info("Bluetooth sensor %s needs no pairing (%s)", client.address, name)

    async def _session(self, link: _Link, client: BleakClient | None) -> None:
        """One connection, from connecting to the link dropping."""
        if client is None:
            client = await self._connect(link)
        link.client = client
        try:
            async with link.gatt_calls(self.timeout):  # part of the connection attempt
                await self._subscribe(link, client)
            self._say(link, "connected", None)
            if any(c.uuid == RACP for c in client.services.characteristics.values()):
                async with link.gatt_calls(None):  # each answer has its own time-out
                    await self._fetch_records(link, client)
            await link.dropped.wait()
        except TimeoutError:
            if not link.dropped.is_set():
                raise  # the device did not answer: an attempt that failed
        finally:
            link.client = None
            with contextlib.suppress(Exception):  # after a drop too: it releases the client's own bus connection
                async with asyncio.timeout(10):
                    await client.disconnect()

    async def _subscribe(self, link: _Link, client: BleakClient) -> None:
        address = link.device.address
        for characteristic in client.services.characteristics.values():
            uuid, properties = characteristic.uuid, characteristic.properties
            if uuid in ble_health.DECODERS and ("notify" in properties or "indicate" in properties):
                await client.start_notify(characteristic, self._on_measurement(link))
            elif uuid == RACP and "indicate" in properties:
                await client.start_notify(characteristic, self._on_racp(link))
        battery = client.services.get_characteristic(BATTERY_LEVEL)
        if battery is not None:
            if "read" in battery.properties:
                level = await client.read_gatt_char(battery)
                if level:
                    self._tell(self.on_battery, address, level[0])
            if "notify" in battery.properties:
                await client.start_notify(battery, lambda _, data: data and self._tell(self.on_battery, address, data[0]))

    def _on_measurement(self, link: _Link) -> Callable[[BleakGATTCharacteristic, bytearray], None]:
        def received(characteristic: BleakGATTCharacteristic, data: bytearray) -> None:
            try:
                measurement = ble_health.DECODERS[characteristic.uuid](bytes(data))
            except DecodeError as error:
                log.warning("Bluetooth sensor %s: %s", link.device.address, error)
                return
            sequence = measurement.extra.get("sequence") if characteristic.uuid == ble_health.GLUCOSE else None
            if isinstance(sequence, int):
                if link.last_sequence is not None and sequence <= link.last_sequence:
                    return  # already handed over (a stored record asked for again)
                link.last_sequence = sequence
            self._tell(self.on_measurement, link.device.address, measurement)
        return received

    def _on_racp(self, link: _Link) -> Callable[[BleakGATTCharacteristic, bytearray], None]:
        def received(_: BleakGATTCharacteristic, data: bytearray) -> None:
            answer = racp_response(bytes(data))
            if answer is None:
                log.info("Bluetooth sensor %s: RACP sent %s", link.device.address, bytes(data).hex(" "))
            elif link.racp_answer is not None and not link.racp_answer.done():
                link.racp_answer.set_result(answer)
        return received

    async def _fetch_records(self, link: _Link, client: BleakClient) -> None:
        """The stored records since the last one handed over (all of them the first time, or when
        the meter does not filter by sequence number); their measurements arrive as notifications
        before the RACP's response indication. A meter that refuses is logged, the link kept."""
        requests = [racp_request(link.last_sequence)]
        if link.last_sequence is not None:
            requests.append(racp_request(None))
        for request in requests:
            answer = await self._ask_records(link, client, request)
            if answer is None:
                return
            op, code = answer
            if op == RACP_REPORT and code in (0x01, 0x06):
                return
            log.warning("Bluetooth sensor %s: stored records refused (%s): %s", link.device.address, request.hex(" "),
                        RACP_CODES.get(code, f"code {code:#04x}"))
            if code not in (0x03, 0x04, 0x05, 0x09):  # only an unsupported filter is worth asking for all
                return

    async def _ask_records(self, link: _Link, client: BleakClient, request: bytes) -> tuple[int, int] | None:
        from bleak.exc import BleakError

        link.racp_answer = asyncio.get_running_loop().create_future()
        try:
            await client.write_gatt_char(RACP, request, response=True)
            async with asyncio.timeout(self.timeout):
                return await link.racp_answer
        except (BleakError, TimeoutError) as error:
            if not link.dropped.is_set():
                log.warning("Bluetooth sensor %s: stored records not fetched (%s)", link.device.address, error)
            return None
        finally:
            link.racp_answer = None
