"""The technician's page beyond the network: the cart's clock (systemd-timedated) and the settings
kept beside the database (agent/site_settings.py: the regional server's address, the EHPAD's web
proxy, the zone of the dates the agent writes). A saved setting applies when the agent starts:
under systemd the agent restarts itself at once (a few seconds; the kiosk reconnects by itself).
Every change is audited under the technician's name."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from agent import audit, site_settings
from agent.access.roles import Permission
from agent.api.context import services_of
from agent.api.errors import ApiError
from agent.api.registry import API
from agent.api.routing import Call
from agent.api.schemas.technician_settings import (
    ClockOut,
    NtpIn,
    PrinterChoiceIn,
    SiteSettingsIn,
    SiteSettingsOut,
    SoundTestOut,
    TimeIn,
    TimezoneIn,
    ZoneOut,
)
from agent.config import MASK, Config, NetworkConfig, masked_url
from agent.technician.system_clock import FRENCH_ZONES, ClockError, all_zones
from drivers.audio.sound_check import check_sound

_TAGS = ("technicien",)
RESTART_DELAY = 0.5  # seconds: the answer leaves before the agent stops


def _pending(services) -> bool:  # noqa: ANN001
    """Whether the settings file says something the running agent does not do yet."""
    saved = site_settings.read(services.config.storage.data_dir)
    return any(getattr(getattr(services.config, section), key) != value for section, values in saved.items() for key, value in values.items())


async def _audited(call: Call, action: str, detail: str) -> None:
    await services_of(call.request).store.write(audit.append, audit.AuditEvent(
        actor=call.actor.login, role=call.actor.role, action=action, remote_addr=call.remote_addr, detail=detail), essential=True)


def _clock_failed(error: ClockError) -> ApiError:
    return ApiError("clock_unavailable", reason=str(error))


@API.route("GET", "/tech/clock", summary="L'horloge du chariot : fuseau horaire, heure réseau (NTP) et son état, l'heure qu'il est",
           tags=_TAGS, access=Permission.DEVICES_MANAGE, response=ClockOut, errors=(503,))
async def technician_clock(call: Call) -> ClockOut:
    services = services_of(call.request)
    try:
        state = await services.clock.state()
    except ClockError as error:
        raise _clock_failed(error) from error
    french = [ZoneOut(name=name, label=f"{label} ({name})") for name, label in FRENCH_ZONES]
    others = [ZoneOut(name=name, label=name) for name in all_zones() if name not in dict(FRENCH_ZONES)]
    return ClockOut(**state, dates_timezone=services.config.dossiers.timezone, zones=french + others, restart_pending=_pending(services))


@API.route("PUT", "/tech/clock/timezone", summary="Choisir le fuseau horaire du chariot (son horloge et les dates qu'il écrit)",
           tags=_TAGS, access=Permission.DEVICES_MANAGE, body=TimezoneIn, response=ClockOut, errors=(422, 503))
async def technician_set_timezone(call: Call) -> ClockOut:
    services = services_of(call.request)
    zone = call.body.timezone
    try:
        await services.clock.set_timezone(zone)
    except ClockError as error:
        raise (ApiError("timezone_unknown", zone=zone) if "inconnu" in str(error) else _clock_failed(error)) from error
    site_settings.write(services.config.storage.data_dir, "dossiers", "timezone", zone)
    await _audited(call, "technician.clock", f"fuseau horaire {zone}")
    clock = await technician_clock(call)
    return clock.model_copy(update=_restart_soon(services)) if zone != services.config.dossiers.timezone else clock


@API.route("PUT", "/tech/clock/ntp", summary="Heure réseau (NTP) : l'activer ou la couper", tags=_TAGS, access=Permission.DEVICES_MANAGE,
           body=NtpIn, response=ClockOut, errors=(503,))
async def technician_set_ntp(call: Call) -> ClockOut:
    try:
        await services_of(call.request).clock.set_ntp(call.body.on)
    except ClockError as error:
        raise _clock_failed(error) from error
    await _audited(call, "technician.clock", f"heure réseau {'activée' if call.body.on else 'coupée'}")
    return await technician_clock(call)


@API.route("PUT", "/tech/clock/time", summary="Régler l'heure à la main (heure réseau coupée seulement)", tags=_TAGS,
           access=Permission.DEVICES_MANAGE, body=TimeIn, response=ClockOut, errors=(409, 503))
async def technician_set_time(call: Call) -> ClockOut:
    at = call.body.at
    if at.tzinfo is None:
        raise ApiError("bad_request")
    try:
        await services_of(call.request).clock.set_time(at)
    except ClockError as error:
        raise (ApiError("clock_ntp_on") if "NTP" in str(error) else _clock_failed(error)) from error
    await _audited(call, "technician.clock", f"heure réglée à la main : {at.isoformat(timespec='minutes')}")
    return await technician_clock(call)


# --- settings kept beside the database (agent/site_settings.py) ---------------------------------


def _settings_out(services, **restart: bool) -> SiteSettingsOut:  # noqa: ANN001
    """What the agent will use from its next start on: the file's settings over the running ones."""
    saved = site_settings.read(services.config.storage.data_dir)
    sync, network = saved.get("sync", {}), saved.get("network", {})
    return SiteSettingsOut(fhir_base_url=sync.get("fhir_base_url", services.config.sync.fhir_base_url),
                           upload_url=sync.get("upload_url", services.config.sync.upload_url),
                           http_proxy=masked_url(network.get("http_proxy", services.config.network.http_proxy)),
                           restart_pending=_pending(services), **restart)


def _web_address(field: str, value: str, *, path: bool) -> str:
    value = value.strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or (not path and parts.path not in ("", "/")):
        raise ApiError("setting_invalid", field=field)
    return value.rstrip("/") if path else value


@API.route("GET", "/tech/settings", summary="Réglages du chariot : adresse du serveur régional, proxy de l'établissement",
           tags=_TAGS, access=Permission.DEVICES_MANAGE, response=SiteSettingsOut)
async def technician_settings(call: Call) -> SiteSettingsOut:
    return _settings_out(services_of(call.request))


@API.route("PUT", "/tech/settings", summary="Enregistrer des réglages (appliqués au redémarrage de l'agent, aussitôt fait)",
           tags=_TAGS, access=Permission.DEVICES_MANAGE, body=SiteSettingsIn, response=SiteSettingsOut, errors=(422,))
async def technician_save_settings(call: Call) -> SiteSettingsOut:
    services = services_of(call.request)
    body: SiteSettingsIn = call.body
    changes: list[tuple[str, str, Any, str]] = []  # section, key, value, what the audit trail says
    if body.fhir_base_url is not None:
        value = _web_address("fhir_base_url", body.fhir_base_url, path=True)
        changes.append(("sync", "fhir_base_url", value, f"serveur régional : {value or 'aucun'}"))
    if body.upload_url is not None:
        value = _web_address("upload_url", body.upload_url, path=True)
        changes.append(("sync", "upload_url", value + "/" if value else "", f"envoi des gros fichiers : {value or 'aucun'}"))
    if body.http_proxy is not None:
        value = body.http_proxy.strip()
        if MASK in value:  # the page sent back the masked form: the saved proxy stays
            value = site_settings.read(services.config.storage.data_dir).get("network", {}).get("http_proxy", services.config.network.http_proxy)
        _web_address("http_proxy", value, path=False)
        NetworkConfig(http_proxy=value)
        changes.append(("network", "http_proxy", value, f"proxy : {masked_url(value) or 'aucun (accès direct)'}"))
    for section, key, value, detail in changes:
        _check_with(services.config, section, key, value)
        site_settings.write(services.config.storage.data_dir, section, key, value)
        await _audited(call, "technician.settings", detail)
    return _settings_out(services, **_restart_soon(services) if changes else {})


def _check_with(config: Config, section: str, key: str, value: Any) -> None:
    """The whole configuration with this value must still validate, or nothing is saved."""
    candidate = config.model_dump(mode="json")
    candidate[section][key] = value
    try:
        Config.model_validate(candidate)
    except ValueError as error:
        raise ApiError("setting_invalid", field=key) from error


def _restart_soon(services) -> dict[str, bool]:  # noqa: ANN001
    """The agent restarted to apply what was saved (under systemd), once the answer has left."""
    if services.lifecycle.restart is None:
        return {"restart_by_hand": True}
    asyncio.get_running_loop().call_later(RESTART_DELAY, services.lifecycle.restart)
    return {"restarting": True}


# --- sound: the loudspeaker and the microphone (drivers/audio/sound_check.py) ---------------------

_sound_test = asyncio.Lock()


@API.route("POST", "/tech/sound-test", summary="Tester le son : le chariot joue des bips et vérifie que son micro les entend (hors appel)",
           tags=_TAGS, access=Permission.DEVICES_MANAGE, response=SoundTestOut, errors=(409,))
async def technician_sound_test(call: Call) -> SoundTestOut:
    """Never during a call (the beeps would go to the room and the call); one test at a time. The
    raw microphone is tested: PipeWire's echo-cancelled source is meant not to hear the speaker."""
    services = services_of(call.request)
    if services.calls.cart_room is not None or _sound_test.locked():
        raise ApiError("sound_test_busy")
    media = services.config.media
    microphone = media.audio_input if media.audio_input and media.audio_input != "echo-cancel-source" else "default"
    async with _sound_test:
        heard = await check_sound(microphone, media.audio_backend)
    await _audited(call, "technician.sound_test", heard.verdict)
    return SoundTestOut(check=heard, microphone=microphone)


# --- the printer (agent/printing/): which CUPS queue the nurse's prints go to ---------------------


@API.route("PUT", "/tech/printer", summary="Choisir l'imprimante du chariot (vide : celle que le service d'impression a par défaut)",
           tags=_TAGS, access=Permission.DEVICES_MANAGE, body=PrinterChoiceIn, status=204, errors=(409, 503))
async def technician_choose_printer(call: Call) -> None:
    """Applies at once (the print service's queue) and is kept for the next start (site settings)."""
    services = services_of(call.request)
    chosen = await services.printing.choose(call.body.printer)
    site_settings.write(services.config.storage.data_dir, "printing", "printer", chosen)
    await _audited(call, "technician.printer", "imprimante : " + (chosen or "celle du service d'impression par défaut"))
