"""The cart's vital-sign sensors, as the agent sees them: which are configured or paired, whether
each talks now (connected, silent, absent, error and why), what they measure, and who listens.

Serial sensors (`[[sensors]]` tables) are each a `SerialSensor` (drivers/sensors/serial_link.py);
Bluetooth ones, paired from the kiosk and remembered in the database (bluetooth_pairings.py), are
kept connected by `BleSensors` on the agent's loop (drivers/sensors/ble_link.py).
Both report here, on the agent's loop (a serial line is watched with `add_reader`, no thread), then
`LiveVitals` keeps the latest and held values, and every listener (the kiosk's WebSocket, the
call's room) gets each event at once. A listener that stalls loses events, never the agent's pace.

With `--simulate` and no sensor configured, simulated devices write their real wire protocol to
pseudo-terminals (drivers/sensors/simulators.py): the rest of the agent cannot tell.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.config import Config, SensorConfig
from agent.devices.listeners import Listeners
from agent.devices.live_vitals import TRANSIENT, Held, LiveVitals, said
from drivers.sensors.ble_link import BleDevice, BleError, BleSensors, Found
from drivers.sensors.protocols import SERIAL_PROTOCOLS
from drivers.sensors.readings import Measurement
from drivers.sensors.serial_link import SerialSensor

log = logging.getLogger(__name__)

STATE_WORDS = {
    "connecting": "connexion…", "connected": "connecté", "silent": "ne transmet plus", "absent": "débranché",
    "error": "en erreur",
}
KIND_WORDS = {
    "oximeter": "Oxymètre", "blood_pressure": "Tensiomètre", "thermometer": "Thermomètre", "scale": "Pèse-personne",
    "glucose_meter": "Glucomètre", "heart_rate": "Cardiofréquencemètre",
}
STREAMING = frozenset({"oximeter", "heart_rate"})  # what they send must settle; the others send a final result
SIMULATED = (("Oxymètre", "contec-cms50d"), ("Tensiomètre", "suntech-nibp"))
REFIND_SECONDS = 2.0  # how often a sensor known by its USB identity is looked for on another port
QUEUE_EVENTS = 512  # about two seconds of four streaming devices: a stalled listener loses the oldest


@dataclass
class Sensor:
    id: str
    name: str
    kind: str
    model: str  # what the device is (its protocol's label)
    transport: str  # serial | bluetooth
    state: str = "connecting"
    reason: str | None = None
    battery: int | None = None
    last_seen: datetime | None = None
    simulated: bool = False

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind, "model": self.model, "transport": self.transport,
                "state": self.state, "state_text": STATE_WORDS.get(self.state, self.state), "reason": self.reason,
                "battery": self.battery, "last_seen": self.last_seen.isoformat() if self.last_seen else None,
                "simulated": self.simulated}

    @property
    def device(self) -> str:
        """How a record names it: the cart's name for it and the model."""
        if not self.model or self.model.startswith(self.name):  # « Oxymètre de pouls Contec CMS50D+ », not « Oxymètre (Oxymètre de… »
            return self.model or self.name
        return f"{self.name} ({self.model})"


@dataclass
class _Serial:
    sensor: Sensor
    config: SensorConfig
    path: str
    link: SerialSensor | None = None


@dataclass
class SensorHub:
    config: Config
    vitals: LiveVitals = field(default_factory=LiveVitals)
    on_dropout: Callable[[Sensor], Awaitable[None]] | None = None  # the call says it on both screens
    on_back: Callable[[Sensor], Awaitable[None]] | None = None

    def __post_init__(self) -> None:
        self._serial: dict[str, _Serial] = {}
        self._bluetooth: dict[str, Sensor] = {}  # by address
        self._ble: BleSensors | None = None
        self._listeners: Listeners[dict[str, Any]] = Listeners(QUEUE_EVENTS)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._simulated_ports: list[Any] = []
        self._simulation_dir: tempfile.TemporaryDirectory[str] | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def bluetooth_on(self) -> bool:
        """Bluetooth is the cart's radio: off under --simulate, unless the configuration asks for it
        (a test's private BlueZ)."""
        bt = self.config.bluetooth
        return bt.enabled and (not self.config.devices.simulate or "enabled" in bt.model_fields_set)

    async def start(self, paired: list[BleDevice] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        if self.bluetooth_on:
            await self._start_bluetooth(paired or [])
        tables = list(self.config.sensors)
        if not tables and self.config.devices.simulate:
            tables = self._simulated_tables()
        for index, table in enumerate(tables, start=1):
            protocol = SERIAL_PROTOCOLS[table.protocol]
            sensor = Sensor(f"serie-{index}", table.name, protocol.kind, protocol.label, "serial",
                            simulated=bool(self._simulated_ports))
            entry = _Serial(sensor, table, table.port or find_usb_port(table) or "")
            self._serial[sensor.id] = entry
            self._open(entry)
        if any(t.usb_vendor for t in tables):
            self._background(self._refind())

    async def _start_bluetooth(self, paired: list[BleDevice]) -> None:
        for device in paired:
            self._bluetooth[device.address] = _ble_sensor(device)
        self._ble = BleSensors(paired, self._ble_measured, self._ble_state, self._ble_battery, adapter=self.config.bluetooth.adapter or None)
        try:
            await self._ble.start()
        except Exception:  # no BlueZ, no D-Bus: the serial sensors still work, the kiosk says why
            log.exception("Bluetooth could not start")
            for sensor in self._bluetooth.values():
                self._set_state(sensor, "error", "Bluetooth indisponible sur ce chariot")

    async def stop(self) -> None:
        if self._ble is not None:
            await self._ble.stop()
        for task in list(self._tasks):
            task.cancel()
        for entry in self._serial.values():
            if entry.link is not None:
                entry.link.stop()
        for port in self._simulated_ports:
            port.pull()
        if self._simulation_dir is not None:
            self._simulation_dir.cleanup()

    def _simulated_tables(self) -> list[SensorConfig]:
        from drivers.sensors.simulators import PtyPort, Simulator

        # In the data directory rather than /tmp: an agent killed (no stop()) leaves nothing behind elsewhere.
        home = self.config.storage.data_dir
        home.mkdir(parents=True, exist_ok=True)
        for left in home.glob("simulated-sensors-*"):  # by an agent that was killed
            shutil.rmtree(left, ignore_errors=True)
        self._simulation_dir = tempfile.TemporaryDirectory(prefix="simulated-sensors-", dir=home)
        tables = []
        for name, protocol in SIMULATED:
            if protocol not in SERIAL_PROTOCOLS:
                continue
            link = Path(self._simulation_dir.name) / f"simulated-{protocol}"
            # A simulated cuff takes 10 s where a real one takes 30 to 40: a demonstration waits less.
            self._simulated_ports.append(PtyPort(link, Simulator(protocol, inflation_seconds=10)).plug())
            tables.append(SensorConfig(name=name, protocol=protocol, port=str(link)))
        return tables

    def _open(self, entry: _Serial) -> None:
        sensor = entry.sensor
        if not entry.path:
            self._set_state(sensor, "absent", "appareil introuvable : branchez-le")
            return
        # The line is read on the agent's loop: a packet is decoded and handed over in one callback.
        entry.link = SerialSensor(entry.path, SERIAL_PROTOCOLS[entry.config.protocol],
                                  lambda m: self.arrived(sensor.id, m, time.time()),
                                  lambda state, reason: self._set_state(sensor, state, reason), loop=self._loop)
        entry.link.start()

    async def _refind(self) -> None:
        """A device known by its USB identity, plugged into another port: followed there."""
        while True:
            await asyncio.sleep(REFIND_SECONDS)
            for entry in self._serial.values():
                if not entry.config.usb_vendor or entry.sensor.state not in ("absent", "connecting"):
                    continue
                found = await asyncio.get_running_loop().run_in_executor(None, find_usb_port, entry.config)
                if found and found != entry.path:
                    log.info("sensor %s found on %s", entry.sensor.name, found)
                    if entry.link is not None:
                        entry.link.stop()
                    entry.path = found
                    self._open(entry)

    def _background(self, work: Awaitable[None]) -> None:
        task = asyncio.get_running_loop().create_task(work)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- what the sensors say -------------------------------------------------------------------

    def arrived(self, sensor_id: str, measurement: Measurement, received: float) -> None:
        sensor = self._sensor(sensor_id)
        if sensor is None:
            return
        at = datetime.fromtimestamp(received, UTC)
        sensor.last_seen = at
        held = self.vitals.arrived(sensor.id, sensor.device, measurement, at, streams=sensor.kind in STREAMING)
        values = {r.quantity: {"value": r.value, "unit": r.unit, "decimals": r.decimals}
                  for r in measurement.readings if r.quantity != "pleth"}
        flags = measurement.flags.union(*(r.flags for r in measurement.readings))
        self._publish({"type": "reading", "sensor": sensor.id, "at": received, "values": values, "pleth": measurement.value("pleth"),
                       "flags": sorted(flags), "warnings": said(flags) if flags else [],
                       "gone": sorted(TRANSIENT.difference(values))})  # a cuff's pressure, once it no longer inflates
        for value in held:
            self._publish({"type": "held", **value.public()})

    def _set_state(self, sensor: Sensor, state: str, reason: str | None) -> None:
        was = sensor.state
        sensor.state, sensor.reason = state, reason
        if state != "connected":
            self.vitals.sensor_gone(sensor.id)
        self._publish({"type": "sensor", **sensor.public()})
        if was == "connected" and state in ("silent", "absent", "error") and self.on_dropout is not None:
            self._background(self.on_dropout(sensor))
        elif state == "connected" and was in ("silent", "absent", "error") and self.on_back is not None:
            self._background(self.on_back(sensor))

    def battery(self, sensor_id: str, level: int) -> None:
        sensor = self._sensor(sensor_id)
        if sensor is not None and sensor.battery != level:
            sensor.battery = level
            self._publish({"type": "sensor", **sensor.public()})

    def _sensor(self, sensor_id: str) -> Sensor | None:
        entry = self._serial.get(sensor_id)
        return entry.sensor if entry else next((s for s in self._bluetooth.values() if s.id == sensor_id), None)

    # --- Bluetooth ------------------------------------------------------------------------------

    def _ble_measured(self, address: str, measurement: Measurement) -> None:
        if address in self._bluetooth:
            self.arrived(self._bluetooth[address].id, measurement, time.time())

    def _ble_state(self, address: str, state: str, reason: str | None) -> None:
        if address in self._bluetooth:
            self._set_state(self._bluetooth[address], state, reason)

    def _ble_battery(self, address: str, level: int) -> None:
        if address in self._bluetooth:
            self.battery(self._bluetooth[address].id, level)

    def _radio(self) -> BleSensors:
        if self._ble is None:
            raise BleError("off", "Bluetooth est désactivé sur ce chariot")
        return self._ble

    async def scan(self, seconds: float) -> list[Found]:
        """Health devices in range, not yet paired."""
        return [f for f in await self._radio().scan(seconds) if f.address not in self._bluetooth]

    async def pair(self, address: str) -> BleDevice:
        """Paired and connected from now on; the caller remembers it (bluetooth_pairings.remember)."""
        device = await self._radio().pair(address)
        self._bluetooth[device.address] = _ble_sensor(device, state=self._radio().state(device.address))
        self._publish({"type": "live", **self.live()})
        return device

    def bluetooth_sensor(self, address: str) -> Sensor | None:
        return self._bluetooth.get(address)

    async def unpair(self, sensor_id: str) -> str | None:
        """Its address, once unpaired and no longer followed; None for no such Bluetooth sensor."""
        sensor = next(((a, s) for a, s in self._bluetooth.items() if s.id == sensor_id), None)
        if sensor is None:
            return None
        address, _ = sensor
        await self._radio().forget(address)
        del self._bluetooth[address]
        self.vitals.sensor_gone(sensor_id)
        self._publish({"type": "live", **self.live()})
        return address

    # --- what the kiosk and the call read ------------------------------------------------------

    def sensors(self) -> list[Sensor]:
        return [e.sensor for e in self._serial.values()] + list(self._bluetooth.values())

    def live(self) -> dict[str, Any]:
        return {"sensors": [s.public() for s in self.sensors()],
                "values": [latest.public() for latest in self.vitals.latest.values()],
                "held": [h.public() for h in self.vitals.held.values()]}

    def recordable(self, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], Held]:
        return self.vitals.recordable(wanted, datetime.now(UTC))

    def forget_held(self) -> None:
        """A check-up begins: nothing measured before it is offered with it."""
        self.vitals.forget_held()
        self._publish({"type": "held_cleared"})

    def command(self, sensor_id: str, name: str) -> bool:
        """A host command to a device: « measure » starts a blood pressure cuff."""
        entry = self._serial.get(sensor_id)
        return bool(entry and entry.link and entry.link.command(name))

    def listen(self) -> asyncio.Queue[dict[str, Any]]:
        return self._listeners.listen()

    def forget(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._listeners.forget(queue)

    def _publish(self, event: dict[str, Any]) -> None:
        self._listeners.publish(event)


def _ble_sensor(device: BleDevice, state: str = "connecting") -> Sensor:
    return Sensor(f"ble-{device.address.replace(':', '').lower()}", device.name or KIND_WORDS.get(device.kind, "Capteur"),
                  device.kind, device.name, "bluetooth", state=state)


def find_usb_port(table: SensorConfig) -> str | None:
    """The serial port whose USB device has the table's vendor, product and serial number."""
    if not table.usb_vendor:
        return None
    from serial.tools import list_ports

    for port in list_ports.comports():
        if matches_usb(table, port.vid, port.pid, port.serial_number):
            return str(port.device)
    return None


def matches_usb(table: SensorConfig, vid: int | None, pid: int | None, serial_number: str | None) -> bool:
    return (vid is not None and vid == int(table.usb_vendor, 16)
            and (not table.usb_product or pid == int(table.usb_product, 16))
            and (not table.usb_serial or serial_number == table.usb_serial))
