"""Live vitals reach the doctors in the call (issue 12): while the cart is in the room, the
specialist's page receives the oximeter's numbers and waveform from a real pseudo-terminal; a
relative in the same room never does (health data); a sensor that drops out is said to everyone,
and its values stop being shown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from drivers.sensors.simulators import PtyPort, Simulator, Vitals
from tests.call.harness import Cart, cart_with_mail, leave_any_call
from tests.call.test_room_rules import receive, socket_url
from tests.notify.servers import run_async

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cart, PtyPort]]:
    root = tmp_path_factory.mktemp("vitals-call")
    oximeter = PtyPort(root / "oximeter", Simulator("contec-cms50d", Vitals(spo2=94, pulse=81))).plug()
    try:
        with cart_with_mail(root, sensors=[{"name": "Oxymètre", "protocol": "contec-cms50d", "port": str(oximeter.link)}]) as cart:
            yield cart, oximeter
    finally:
        oximeter.pull()


async def next_vitals(ws: aiohttp.ClientWebSocketResponse, check: Any, timeout: float = 10.0) -> dict:
    """The first vitals batch for which `check(batch)` holds."""
    while True:
        batch = await receive(ws, "vitals", timeout)
        if check(batch):
            return batch


def test_the_specialist_sees_live_vitals_and_a_dropout_a_relative_sees_none(setup: tuple[Cart, PtyPort]) -> None:
    cart, oximeter = setup
    dossier = cart.dossier("vitals@chu.example", accompaniment={"kind": "relative", "companion": {
        "name": "MARTIN", "first_name": "Léa", "remote": True, "email": "lea@famille.example"}})
    specialist, relative = (i["link"] for i in sorted(dossier["invitations"], key=lambda i: i["role"] != "specialist"))
    assert cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/call")).status_code == 200

    def spo2_of(batch: dict) -> float | None:
        return next((v["value"] for v in batch["values"] if v["quantity"] == "spo2"), None)

    async def scenario() -> tuple[dict, list[dict], dict, dict, list[str]]:
        async with aiohttp.ClientSession() as session, session.ws_connect(socket_url(specialist)) as doctor, \
                session.ws_connect(socket_url(relative) + "?nom=L%C3%A9a%20MARTIN") as lea:
            await receive(doctor, "welcome")
            waiting = (await receive(doctor, "lobby"))["arrived"]
            await doctor.send_str(json.dumps({"type": "admit", "to": waiting["id"]}))
            await receive(lea, "welcome")
            live = await next_vitals(doctor, lambda b: spo2_of(b) == 94 and b["pleth"])
            heard_by_lea = []
            while True:  # what Léa hears in the same second: the room, never the vitals
                try:
                    message = await lea.receive(timeout=1.5)
                except TimeoutError:
                    break
                heard_by_lea.append(json.loads(message.data))
            oximeter.pull()
            notice = await receive(doctor, "notice")
            gone = await next_vitals(doctor, lambda b: b["sensors"][0]["state"] == "absent")
            lea_notices = []
            while not lea_notices:
                said = json.loads((await lea.receive(timeout=10)).data)
                if said["type"] == "notice":
                    lea_notices.append(said["text"])
            oximeter.plug()
            back = await receive(doctor, "notice")
            return live, heard_by_lea, notice, gone, [*lea_notices, back["text"]]

    try:
        live, heard_by_lea, notice, gone, said = run_async(scenario())
    finally:
        leave_any_call(cart)
    assert [s["name"] for s in live["sensors"]] == ["Oxymètre"] and spo2_of(live) == 94
    samples = next(iter(live["pleth"].values()))
    assert len(samples) >= 5 and all(0 <= value <= 127 for _, value in samples)
    assert heard_by_lea and not any(m["type"] == "vitals" for m in heard_by_lea)
    assert notice["text"].startswith("Oxymètre :") and "ne sont plus à jour" in notice["text"]
    assert spo2_of(gone) is None  # not its last value
    assert said[0] == notice["text"] and said[1] == "Oxymètre transmet de nouveau."
