"""The sensors as the kiosk meets them, on a running agent: two devices on real pseudo-terminals
speaking their real wire protocols (a Contec oximeter, a SunTech blood pressure module), read by
the agent through pyserial. Their state and values reach the API and the kiosk's WebSocket; one
tap records a steady value into the dossier with its device, time, LOINC and UCUM; a pulled cable
is said and its values go; nothing unsteady, stale or made up is ever recorded."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import requests
from pypdf import PdfReader

from agent.access.roles import Role
from drivers.sensors.simulators import PtyPort, Simulator, Vitals
from tests.api.helpers import CartBase, assert_error, audit_items, logged_in, teleconsultation_now
from tests.live import running_agent
from tests.loopback import eventually
from tests.notify.servers import run_async

pytestmark = pytest.mark.slow

OXIMETER, CUFF = "serie-1", "serie-2"


@dataclass
class Cart(CartBase):
    nurse: requests.Session
    admin: requests.Session
    technician: requests.Session
    oximeter: PtyPort
    cuff: PtyPort

    def dossier(self) -> str:
        return teleconsultation_now(self, self.nurse, "CAPTEUR", {"email": "c.petit@chu.example"})[0]["id"]

    def live(self) -> dict[str, Any]:
        reply = self.nurse.get(self.url("/vitals/live"))
        assert reply.status_code == 200, reply.text
        return reply.json()

    def value(self, quantity: str, sensor: str) -> float | None:
        return next((v["value"] for v in self.live()["values"] if v["quantity"] == quantity and v["sensor"] == sensor), None)

    def held(self, kind: str, sensor: str) -> dict[str, Any] | None:
        return next((h for h in self.live()["held"] if h["kind"] == kind and h["sensor"] == sensor), None)

    def sensor(self, sensor_id: str) -> dict[str, Any]:
        return next(s for s in self.nurse.get(self.url("/sensors")).json()["sensors"] if s["id"] == sensor_id)


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    root = tmp_path_factory.mktemp("sensors")
    oximeter = PtyPort(root / "usb-Contec_CMS50D+-if00", Simulator("contec-cms50d", Vitals(spo2=96, pulse=68))).plug()
    cuff = PtyPort(root / "usb-SunTech_NIBP-if00", Simulator("suntech-nibp", Vitals(systolic=142, diastolic=86, pulse=70),
                                                            inflation_seconds=1.5)).plug()
    sensors = [{"name": "Oxymètre", "protocol": "contec-cms50d", "port": str(oximeter.link)},
               {"name": "Tensiomètre", "protocol": "suntech-nibp", "port": str(cuff.link)}]
    try:
        with running_agent(root, sensors=sensors) as agent:
            yield Cart(agent, logged_in(agent, agent.add_account(Role.NURSE)), logged_in(agent, agent.add_account(Role.ADMIN)),
                       logged_in(agent, agent.add_account(Role.TECHNICIAN)), oximeter, cuff)
    finally:
        oximeter.pull()
        cuff.pull()


def test_each_sensor_is_listed_with_its_state_and_its_values_arrive(cart: Cart) -> None:
    eventually(lambda: cart.sensor(OXIMETER)["state"] == "connected" and cart.sensor(CUFF)["state"] == "connected",
               what="both sensors connected")
    listed = {s["id"]: (s["name"], s["kind"], s["transport"]) for s in cart.nurse.get(cart.url("/sensors")).json()["sensors"]}
    assert listed == {OXIMETER: ("Oxymètre", "oximeter", "serial"), CUFF: ("Tensiomètre", "blood_pressure", "serial")}
    assert eventually(lambda: cart.value("spo2", OXIMETER) == 96 and cart.value("pulse_rate", OXIMETER) == 68, what="the oximeter's values")
    # Steady for five seconds, the oximeter's values become recordable, in the fiche's units and codes.
    spo2 = eventually(lambda: cart.held("spo2", OXIMETER), timeout=15, what="SpO2 steady")
    assert (spo2["value"], spo2["unit"], spo2["loinc"], spo2["ucum"], spo2["device"]) == (
        "96", "%", "59408-5", "%", "Oxymètre de pouls Contec CMS50D+")


def test_a_technician_sees_the_sensors_but_not_the_residents_values(cart: Cart) -> None:
    assert cart.technician.get(cart.url("/sensors")).status_code == 200
    assert_error(cart.technician.get(cart.url("/vitals/live")), 403, "forbidden")


def test_one_tap_records_the_measured_values_with_their_device(cart: Cart) -> None:
    dossier_id = cart.dossier()
    assert cart.nurse.post(cart.url(f"/sensors/{CUFF}/measure")).status_code == 202
    # While the cuff inflates, its pressure shows; the result then is held, and the pressure gone.
    eventually(lambda: cart.value("cuff_pressure", CUFF), what="the cuff's pressure while it inflates")
    pressure = eventually(lambda: cart.held("blood_pressure", CUFF), timeout=15, what="the blood pressure result")
    assert pressure["value"] == "142/86" and cart.value("cuff_pressure", CUFF) is None
    eventually(lambda: cart.held("spo2", OXIMETER), timeout=15, what="SpO2 steady")

    reply = cart.nurse.post(cart.url(f"/dossiers/{dossier_id}/vitals/measured"),
                            json={"values": [{"kind": "blood_pressure", "sensor": CUFF}, {"kind": "spo2", "sensor": OXIMETER}]})
    assert reply.status_code == 201, reply.text
    recorded = {v["kind"]: v for v in reply.json()["vitals"]}
    assert {k: (v["value"], v["unit"], v["source"], v["device"], v["loinc"], v["ucum"]) for k, v in recorded.items()} == {
        "blood_pressure": ("142/86", "mmHg", "capteur", "Tensiomètre SunTech (module PNI Advantage)", "85354-9", "mm[Hg]"),
        "spo2": ("96", "%", "capteur", "Oxymètre de pouls Contec CMS50D+", "59408-5", "%"),
    }
    typed = cart.nurse.post(cart.url(f"/dossiers/{dossier_id}/vitals"), json={"kind": "temperature", "value": "37,9"})
    assert typed.status_code == 201
    temperature = next(v for v in typed.json()["vitals"] if v["kind"] == "temperature")
    assert (temperature["source"], temperature["device"], temperature["loinc"]) == ("saisie", None, "8310-5")

    report = cart.nurse.get(cart.url(f"/dossiers/{dossier_id}/report.pdf"))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(report.content)).pages)
    assert "142/86" in text and "Tensiomètre" in text and "saisie" in text
    trail = [item["detail"] for item in audit_items(cart.agent, cart.admin) if item["action"] == "vital.add"]
    assert any("142/86" in d and "Tensiomètre" in d for d in trail)


def test_nothing_is_recorded_that_is_not_steady_and_recent(cart: Cart) -> None:
    dossier_id = cart.dossier()
    assert cart.nurse.post(cart.url("/vitals/checkup")).status_code == 204  # a check-up begins: nothing before it counts
    assert cart.held("blood_pressure", CUFF) is None
    refused = cart.nurse.post(cart.url(f"/dossiers/{dossier_id}/vitals/measured"), json={"values": [{"kind": "blood_pressure", "sensor": CUFF}]})
    assert "Pression artérielle" in assert_error(refused, 409, "vital_not_measured")["message"]
    made_up = cart.nurse.post(cart.url(f"/dossiers/{dossier_id}/vitals/measured"), json={"values": [{"kind": "spo2", "sensor": "serie-9"}]})
    assert_error(made_up, 409, "vital_not_measured")
    # A number from the browser is no measurement: refused for what it is.
    assert_error(cart.nurse.post(cart.url(f"/dossiers/{dossier_id}/vitals/measured"), json={"values": [{"kind": "spo2", "value": "99"}]}),
                 422, "invalid_request")
    assert cart.nurse.get(cart.url(f"/dossiers/{dossier_id}")).json()["vitals"] == []


def test_a_loose_cuff_is_said_and_gives_no_value(cart: Cart) -> None:
    cart.nurse.post(cart.url("/vitals/checkup"))
    cart.cuff.simulator.vitals.cuff_loose = True
    try:
        assert cart.nurse.post(cart.url(f"/sensors/{CUFF}/measure")).status_code == 202
        warned = eventually(lambda: next((v for v in cart.live()["values"] if v["sensor"] == CUFF and "cuff_loose" in v["flags"]), None),
                            timeout=15, what="the module's loose cuff error")
        assert warned["value"] is None and "brassard mal mis" in warned["warnings"]
        assert cart.held("blood_pressure", CUFF) is None
    finally:
        cart.cuff.simulator.vitals.cuff_loose = False


def test_a_pulled_cable_is_said_its_values_go_and_it_comes_back(cart: Cart) -> None:
    eventually(lambda: cart.value("spo2", OXIMETER), what="the oximeter streaming")

    async def watch() -> list[dict[str, Any]]:
        url = cart.agent.url.replace("http://", "ws://") + "/ws/vitals"
        async with aiohttp.ClientSession(cookies=cart.nurse.cookies.get_dict()) as session, \
                session.ws_connect(url, headers={"Origin": cart.agent.url}) as ws:
            seen = [json.loads((await ws.receive(timeout=10)).data)]  # the live picture, then lists of events
            while sum(e["type"] == "reading" and e["sensor"] == OXIMETER for e in seen) < 60:  # a second of its 60 Hz stream
                seen += json.loads((await ws.receive(timeout=10)).data)
            cart.oximeter.pull()
            while not any(e.get("type") == "sensor" and e["id"] == OXIMETER and e["state"] == "absent" for e in seen):
                seen += json.loads((await ws.receive(timeout=10)).data)
            return seen

    events = run_async(watch())
    assert events[0]["type"] == "live" and {s["id"] for s in events[0]["sensors"]} == {OXIMETER, CUFF}
    readings = [e for e in events if e["type"] == "reading" and e["sensor"] == OXIMETER]
    assert readings and all(0 <= e["pleth"] <= 127 for e in readings) and readings[-1]["values"]["spo2"]["value"] == 96
    gone = cart.sensor(OXIMETER)
    assert gone["state"] == "absent" and gone["reason"]
    assert cart.value("spo2", OXIMETER) is None  # not its last value
    cart.oximeter.plug()
    eventually(lambda: cart.sensor(OXIMETER)["state"] == "connected", timeout=10, what="the oximeter back")
    assert eventually(lambda: cart.value("spo2", OXIMETER) == 96, what="its values back")


def test_the_socket_is_for_a_logged_in_carer_only(cart: Cart) -> None:
    async def attempt(session_cookies: dict[str, str]) -> int:
        url = cart.agent.url.replace("http://", "ws://") + "/ws/vitals"
        async with aiohttp.ClientSession(cookies=session_cookies) as session:
            try:
                async with session.ws_connect(url, headers={"Origin": cart.agent.url}):
                    return 101
            except aiohttp.WSServerHandshakeError as refused:
                return refused.status

    assert run_async(attempt({})) == 401
    assert run_async(attempt(cart.technician.cookies.get_dict())) == 403
