"""Bluetooth sensors on a running agent, through bleak's real BlueZ backend against BlueZoo on a
private D-Bus (tests/sensors/bluez.py): a health device is found and paired from the kiosk's API,
its measurement (the specification's bytes) is recorded into a dossier with its device, it is
remembered across a restart, said absent when it goes and connected when it comes back (and after
BlueZ itself restarts), and forgotten on request; each pairing audited."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from agent.access.roles import Role
from tests.api.helpers import CartBase, assert_error, audit_items, logged_in, teleconsultation_now
from tests.live import running_agent
from tests.loopback import eventually
from tests.sensors.bluez import Peripheral, PrivateBluez, blood_pressure_monitor, private_bluez, sig_uuid, thermometer

pytestmark = pytest.mark.slow

CUFF_ADDRESS, THERMOMETER_ADDRESS = "C0:FF:EE:00:00:01", "C0:FF:EE:00:00:02"
BLOOD_PRESSURE = sig_uuid(0x2A35)
# Blood Pressure Measurement, flags 0 (mmHg, nothing optional): 138/88, MAP 120 (the layout of the
# specification's minimal example, in mmHg).
PRESSURE_138_88 = bytes.fromhex("00 8A 00 58 00 78 00")


@dataclass
class Cart(CartBase):
    bluez: PrivateBluez
    cuff: Peripheral
    nurse: requests.Session
    technician: requests.Session
    admin: requests.Session

    def sensor(self, sensor_id: str) -> dict[str, Any] | None:
        return next((s for s in self.nurse.get(self.url("/sensors")).json()["sensors"] if s["id"] == sensor_id), None)


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    with private_bluez() as bluez:
        cuff = bluez.add_peripheral(blood_pressure_monitor(CUFF_ADDRESS, name="Tensio BLE"))
        bluez.add_peripheral(thermometer(THERMOMETER_ADDRESS, name="Thermo BLE"))
        with running_agent(tmp_path_factory.mktemp("bluetooth"), env={"DBUS_SYSTEM_BUS_ADDRESS": bluez.address},
                           bluetooth={"enabled": True, "adapter": bluez.cart_adapter}) as agent:
            yield Cart(agent, bluez, cuff, logged_in(agent, agent.add_account(Role.NURSE)),
                       logged_in(agent, agent.add_account(Role.TECHNICIAN)), logged_in(agent, agent.add_account(Role.ADMIN)))


def test_a_device_is_paired_and_its_measurement_recorded(cart: Cart) -> None:
    assert_error(cart.admin.post(cart.url("/bluetooth/scan"), json={"seconds": 1}), 403, "forbidden")
    found = cart.technician.post(cart.url("/bluetooth/scan"), json={"seconds": 4})
    assert found.status_code == 200, found.text
    assert {(f["address"], f["name"], f["kind"]) for f in found.json()["found"]} >= {
        (CUFF_ADDRESS, "Tensio BLE", "blood_pressure"), (THERMOMETER_ADDRESS, "Thermo BLE", "thermometer")}

    paired = cart.nurse.post(cart.url("/bluetooth/pairings"), json={"address": CUFF_ADDRESS})
    assert paired.status_code == 201, paired.text
    sensor_id = paired.json()["id"]
    assert (paired.json()["name"], paired.json()["transport"], paired.json()["kind"]) == ("Tensio BLE", "bluetooth", "blood_pressure")
    connected = eventually(lambda: (s := cart.sensor(sensor_id)) and s["state"] == "connected" and s["battery"] is not None and s,
                           timeout=30, what="the paired cuff connected, its battery read")
    assert connected["battery"] == 87
    rescanned = cart.nurse.post(cart.url("/bluetooth/scan"), json={"seconds": 2}).json()["found"]
    assert CUFF_ADDRESS not in {f["address"] for f in rescanned}  # paired: no longer offered

    eventually(lambda: cart.cuff.notifying(BLOOD_PRESSURE), timeout=15, what="the cart subscribed to the measurement")
    cart.cuff.notify(BLOOD_PRESSURE, PRESSURE_138_88)
    held = eventually(lambda: next((h for h in cart.nurse.get(cart.url("/vitals/live")).json()["held"] if h["sensor"] == sensor_id), None),
                      what="the cuff's measurement held")
    assert (held["kind"], held["value"], held["device"]) == ("blood_pressure", "138/88", "Tensio BLE")
    dossier_id = teleconsultation_now(cart, cart.nurse, "BLUETOOTH", {"email": "c.petit@chu.example"})[0]["id"]
    recorded = cart.nurse.post(cart.url(f"/dossiers/{dossier_id}/vitals/measured"),
                               json={"values": [{"kind": "blood_pressure", "sensor": sensor_id}]})
    assert recorded.status_code == 201, recorded.text
    assert [(v["value"], v["device"], v["source"]) for v in recorded.json()["vitals"]] == [("138/88", "Tensio BLE", "capteur")]
    assert "sensor.pair" in {i["action"] for i in audit_items(cart.agent, cart.admin)}


def test_a_paired_device_is_remembered_goes_and_comes_back(cart: Cart) -> None:
    sensor_id = "ble-" + CUFF_ADDRESS.replace(":", "").lower()
    if cart.sensor(sensor_id) is None:
        assert cart.nurse.post(cart.url("/bluetooth/pairings"), json={"address": CUFF_ADDRESS}).status_code == 201
    cart.agent.stop()
    cart.agent.start()
    cart.nurse = logged_in(cart.agent, cart.agent.add_account(Role.NURSE))
    eventually(lambda: (s := cart.sensor(sensor_id)) and s["state"] == "connected", timeout=30, what="reconnected after a restart")

    cart.cuff.vanish()
    gone = eventually(lambda: (s := cart.sensor(sensor_id)) and s["state"] == "absent" and s, timeout=30, what="said absent")
    assert gone["reason"]
    cart.cuff.come_back()
    eventually(lambda: (s := cart.sensor(sensor_id)) and s["state"] == "connected", timeout=60, what="back by itself")

    cart.bluez.restart_bluezoo()  # BlueZ itself restarts: the agent says so, keeps running, and reconnects
    eventually(lambda: (s := cart.sensor(sensor_id)) and s["state"] != "connected", timeout=30, what="the link's loss said")
    eventually(lambda: (s := cart.sensor(sensor_id)) and s["state"] == "connected", timeout=60, what="reconnected after BlueZ")
    assert cart.agent.proc.poll() is None

    assert cart.nurse.delete(cart.url(f"/sensors/{sensor_id}")).status_code == 204
    assert cart.sensor(sensor_id) is None
    assert_error(cart.nurse.delete(cart.url(f"/sensors/{sensor_id}")), 404, "not_found")
    assert_error(cart.nurse.delete(cart.url("/sensors/serie-1")), 404, "not_found")  # a wired sensor is not forgotten here
    assert "sensor.forget" in {i["action"] for i in audit_items(cart.agent, cart.admin)}
