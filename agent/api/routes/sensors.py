"""The sensors and their live values on the kiosk; a measurement recorded into the fiche in one tap.

The values recorded are the agent's own (held by agent/devices/live_vitals.py), never numbers the
browser sends: a tap records what the device measured, with its device and time.
"""

from __future__ import annotations

from aiohttp import web

from agent.access.roles import GRANTS, Permission
from agent.api import guard
from agent.api.context import services_of
from agent.api.dossier_reply import dossier_reply
from agent.api.errors import ApiError
from agent.api.registry import API
from agent.api.routing import Call
from agent.api.schemas.dossiers import DossierOut
from agent.api.schemas.sensors import FoundOut, LiveOut, MeasuredIn, MeasureOut, PairIn, ScanIn, ScanOut, SensorOut, SensorsOut
from agent.clock import iso
from agent.devices import bluetooth_pairings
from agent.devices.live_vitals import said
from agent.dossiers import fiche
from drivers.sensors.ble_link import BleError

# Who pairs a Bluetooth device: the nurse at the cart, or the technician who installs it.
PAIRING = (Permission.HEALTH_WRITE, Permission.DEVICES_MANAGE)


def _refusal(error: BleError, code: str) -> ApiError:
    """Bluetooth turned off on this cart is the cart's setting (409), not a failure."""
    return ApiError("bluetooth_off") if error.state == "off" else ApiError(code, reason=error.reason)


async def _may_pair(call: Call) -> None:
    assert call.session is not None
    if not any(p in GRANTS[call.session.principal.role] for p in PAIRING):
        await guard.require_permission(call.request, call.session, Permission.DEVICES_MANAGE)  # refused, audited


@API.route("GET", "/sensors", summary="Les capteurs du chariot : état (connecté, muet, débranché), batterie, dernière mesure",
           tags=("sensors",), response=SensorsOut)
async def list_sensors(call: Call) -> SensorsOut:
    return SensorsOut.model_validate({"sensors": [s.public() for s in services_of(call.request).devices.sensors.sensors()]})


@API.route("GET", "/vitals/live", summary="Les constantes mesurées en ce moment (la WebSocket /ws/vitals les pousse au fil de l'eau)",
           tags=("sensors",), access=Permission.HEALTH_READ, response=LiveOut)
async def live_vitals(call: Call) -> LiveOut:
    return LiveOut.model_validate(services_of(call.request).devices.sensors.live())


@API.route("POST", "/sensors/{id}/measure", summary="Lancer une mesure (tensiomètre)", tags=("sensors",),
           access=Permission.HEALTH_WRITE, response=MeasureOut, status=202, errors=(404, 409))
async def start_measure(call: Call) -> MeasureOut:
    hub = services_of(call.request).devices.sensors
    sensor = next((s for s in hub.sensors() if s.id == call.request.match_info["id"]), None)
    if sensor is None:
        raise ApiError("not_found")
    if not hub.command(sensor.id, "measure"):
        raise ApiError("sensor_not_ready", name=sensor.name, state=sensor.public()["state_text"])
    return MeasureOut(sensor=sensor.id, message="Mesure lancée : le brassard se gonfle.")


@API.route("POST", "/vitals/checkup", summary="Commencer un bilan : les valeurs mesurées avant ne seront pas enregistrées avec lui",
           tags=("sensors",), access=Permission.HEALTH_WRITE, status=204)
async def start_checkup(call: Call) -> web.Response:
    services_of(call.request).devices.sensors.forget_held()
    return web.Response(status=204)


@API.route("POST", "/dossiers/{id}/vitals/measured", summary="Enregistrer dans la fiche les constantes mesurées par les capteurs",
           tags=("fiche",), access=Permission.HEALTH_WRITE, body=MeasuredIn, response=DossierOut, status=201, errors=(409,))
async def record_measured(call: Call) -> DossierOut:
    body: MeasuredIn = call.body
    services = services_of(call.request)
    wanted = [(v.kind, v.sensor) for v in body.values]
    held = services.devices.sensors.recordable(wanted)
    missing = [fiche.VITALS[kind].label for kind, sensor in wanted if (kind, sensor) not in held]
    if missing:
        raise ApiError("vital_not_measured", labels=", ".join(missing))
    measured = [fiche.Measured(h.kind, h.value, iso(h.at), h.device, ", ".join(said(h.flags)) or None) for h in held.values()]
    await services.store.write(fiche.add_measured, call.request.match_info["id"], measured, call.actor)
    return await dossier_reply(call)


@API.route("POST", "/bluetooth/scan", summary="Chercher les appareils de santé Bluetooth à portée (non encore associés)",
           tags=("sensors",), body=ScanIn, response=ScanOut, errors=(403, 409, 503))
async def scan_bluetooth(call: Call) -> ScanOut:
    await _may_pair(call)
    try:
        found = await services_of(call.request).devices.sensors.scan(call.body.seconds)
    except BleError as error:
        raise _refusal(error, "bluetooth_unavailable") from error
    return ScanOut(found=[FoundOut(address=f.address, name=f.name, kind=f.kind, rssi=f.rssi) for f in found])


@API.route("POST", "/bluetooth/pairings", summary="Associer un appareil Bluetooth au chariot (il se reconnecte ensuite seul)",
           tags=("sensors",), body=PairIn, response=SensorOut, status=201, errors=(403, 409, 503))
async def pair_bluetooth(call: Call) -> SensorOut:
    await _may_pair(call)
    services = services_of(call.request)
    try:
        device = await services.devices.sensors.pair(call.body.address.upper())
    except BleError as error:
        raise _refusal(error, "pairing_failed") from error
    await services.store.write(bluetooth_pairings.remember, device, call.actor)
    sensor = services.devices.sensors.bluetooth_sensor(device.address)
    assert sensor is not None, "a device just paired is followed"
    return SensorOut.model_validate(sensor.public())


@API.route("DELETE", "/sensors/{id}", summary="Oublier un appareil Bluetooth associé", tags=("sensors",),
           status=204, errors=(403, 404))
async def forget_sensor(call: Call) -> web.Response:
    await _may_pair(call)
    services = services_of(call.request)
    address = await services.devices.sensors.unpair(call.request.match_info["id"])
    if address is None:
        raise ApiError("not_found")
    await services.store.write(bluetooth_pairings.forget, address, call.actor)
    return web.Response(status=204)
