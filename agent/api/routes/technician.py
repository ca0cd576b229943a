"""The technician's page on the EHPAD's network (`/technicien` on the HTTPS listener): opened
with a technician account only (a nurse's account is refused there: health data stays on the
cart's screen), or on first boot with the code the cart's screen shows, which creates that
account. What it shows is the cart's state, never a resident's data; what it does is audited
under the technician's name."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from agent import __version__, audit
from agent.access import accounts, otp, sessions
from agent.access.accounts import AccountError
from agent.access.passwords import MIN_LENGTH, WeakPassword
from agent.access.rate_limits import LOOPBACK, Door
from agent.access.roles import LABELS_FR, Permission, Role
from agent.api.context import services_of
from agent.api.errors import ApiError
from agent.api.guard import SESSION_COOKIE, give_session_cookie
from agent.api.registry import API
from agent.api.routes.call import stream_preview
from agent.api.routes.session import attempt, session_out
from agent.api.routing import PUBLIC, Call
from agent.api.schemas.call import CameraChoice, CamerasOut
from agent.api.schemas.session import LoginRequest, SessionOut
from agent.api.schemas.technician import (
    DiagnosticsOut,
    EnrolmentOut,
    FirstAccountIn,
    FirstAccountOut,
    FirstAdminIn,
    MobileJoinIn,
    NetworkOut,
    StaffAccountOut,
    StaffAccountsOut,
    SyncItemOut,
    SyncStateOut,
    TechnicianAccessOut,
    TechnicianStateOut,
    UpdateEntryOut,
    UpdateQueuedOut,
    UpdatesOut,
    WifiJoinIn,
    WifiNetworkOut,
    WifiNetworksOut,
    WifiQuery,
)
from agent.technician import diagnostics, support_bundle
from agent.technician.first_boot import MAX_WRONG, needs_provisioning
from agent.technician.network import NetworkError
from agent.technician.sync_report import auth_words
from agent.update import incoming, releases
from agent.update.bundle import BundleRefused
from cloud_sync import queue, smart_auth

_TAGS = ("technicien",)
TECHNICIANS = frozenset({Role.TECHNICIAN.value})
FIRST_BOOT_ACTOR = "mise en service"


@API.route("GET", "/tech/state", summary="La page technicien : le chariot est-il en mise en service, son nom, l'empreinte de son certificat",
           tags=_TAGS, access=PUBLIC, response=TechnicianStateOut)
async def technician_state(call: Call) -> TechnicianStateOut:
    services = services_of(call.request)
    desk = services.technician
    return TechnicianStateOut(provisioning=await services.store.read(needs_provisioning), cart_name=desk.cart_name,
                              version=__version__, fingerprint=desk.fingerprint)


@API.route("GET", "/kiosk/technician-access", summary="Sur l'écran du chariot : l'adresse de la page technicien, l'empreinte du certificat "
           "et, en mise en service, le code à usage unique", tags=_TAGS, access=PUBLIC, response=TechnicianAccessOut)
async def technician_access(call: Call) -> TechnicianAccessOut:
    """Never on the network: the HTTPS listener does not serve this path, and the code is given to
    the cart's own screen (loopback) only, even when the kiosk's listener is opened wider."""
    services = services_of(call.request)
    desk = services.technician
    provisioning = desk.enabled and await services.store.read(needs_provisioning)
    return TechnicianAccessOut(provisioning=provisioning, code=desk.first_boot.code if provisioning and call.remote_addr in LOOPBACK else None,
                               urls=desk.page_urls(), fingerprint=desk.fingerprint, cart_name=desk.cart_name)


@API.route("POST", "/tech/first-account", summary="Mise en service : créer le compte technicien avec le code affiché par le chariot",
           tags=_TAGS, access=PUBLIC, body=FirstAccountIn, response=FirstAccountOut, status=201, errors=(401, 409, 422, 429))
async def first_account(call: Call) -> FirstAccountOut:
    services = services_of(call.request)
    body: FirstAccountIn = call.body
    services.rate_limits.knock(Door.LOGIN, call.remote_addr)
    if not await services.store.read(needs_provisioning):
        raise ApiError("first_boot_over")
    if not services.technician.first_boot.matches(body.code):
        await services.store.write(audit.append, audit.AuditEvent(actor=FIRST_BOOT_ACTOR, action="technician.first_account",
                                   outcome=audit.FAILURE, remote_addr=call.remote_addr, detail="code de mise en service erroné"), essential=True)
        raise ApiError("first_boot_code_wrong", tries=MAX_WRONG)
    login = body.login.strip().lower()

    def create(db) -> accounts.NewAccount:  # noqa: ANN001
        if not needs_provisioning(db):  # two technicians racing with the same code: one account
            raise ApiError("first_boot_over")
        return accounts.create_account(db, login, Role.TECHNICIAN, body.password, body.display_name.strip(),
                                       created_by=f"{FIRST_BOOT_ACTOR} ({call.remote_addr})")
    new = await _created(services, create, login)
    services.technician.first_boot.renew()  # used: the screen stops showing it
    return _enrolment(new)


async def _created(services, create, login: str) -> accounts.NewAccount:  # noqa: ANN001
    """The account made by `create` on the store, its refusals in French."""
    try:
        return await services.store.write(create, essential=True)
    except WeakPassword as exc:
        raise ApiError("weak_password", minimum=MIN_LENGTH) from exc
    except AccountError as exc:
        raise ApiError("account_exists" if "already exists" in str(exc) else "login_invalid", login=login) from exc


def _enrolment(new: accounts.NewAccount) -> FirstAccountOut:
    """What the new account's owner scans into their authenticator app."""
    qr = otp.enrolment_qr(new.otpauth_uri)
    return FirstAccountOut(login=new.principal.login, otpauth_uri=new.otpauth_uri, secret=new.otp_secret, qr_data_uri=qr)


@API.route("GET", "/tech/accounts", summary="Les comptes du personnel (identifiant, nom, rôle ; jamais de secret)", tags=_TAGS,
           access=Permission.DEVICES_MANAGE, response=StaffAccountsOut)
async def technician_accounts(call: Call) -> StaffAccountsOut:
    def read(db) -> StaffAccountsOut:  # noqa: ANN001
        views = accounts.overview(db, time.time())
        return StaffAccountsOut(accounts=[StaffAccountOut(login=v.login, display_name=v.display_name, role_label=LABELS_FR[v.role],
                                                          disabled=v.disabled, created_at=v.created_at) for v in views],
                                has_admin=accounts.has_active(db, Role.ADMIN))
    return await services_of(call.request).store.read(read)


@API.route("POST", "/tech/accounts/first-admin", summary="Créer le premier compte administrateur de l'établissement (tant qu'il n'y en a aucun)",
           tags=_TAGS, access=Permission.DEVICES_MANAGE, body=FirstAdminIn, response=FirstAccountOut, status=201, errors=(409, 422))
async def technician_first_admin(call: Call) -> FirstAccountOut:
    """A new cart has no administrator to create the nurses' accounts: the technician makes the
    first one, once; the administrator makes every other account on the cart's screen (a
    technician never makes an account that reads health data while one exists)."""
    body: FirstAdminIn = call.body
    login = body.login.strip().lower()

    def create(db) -> accounts.NewAccount:  # noqa: ANN001
        if accounts.has_active(db, Role.ADMIN):
            raise ApiError("admin_exists")
        return accounts.create_account(db, login, Role.ADMIN, body.password, body.display_name.strip(),
                                       created_by=f"{call.actor.login} (page technicien)")
    return _enrolment(await _created(services_of(call.request), create, login))


@API.route("POST", "/tech/session", summary="Se connecter à la page technicien (compte technicien : mot de passe et code)",
           tags=_TAGS, access=PUBLIC, body=LoginRequest, response=SessionOut, status=201, errors=(401, 403, 423, 429))
async def technician_login(call: Call) -> web.Response:
    body: LoginRequest = call.body
    outcome = await attempt(call, body.login.strip().lower(), body.password, body.otp, "technician.login", None, TECHNICIANS)
    assert outcome.session is not None and outcome.token is not None
    response = web.json_response(session_out(call.request, outcome.session).model_dump(mode="json"), status=201)
    give_session_cookie(response, call.request, outcome.token)
    return response


@API.route("GET", "/tech/session", summary="La session technicien en cours", tags=_TAGS, access=Permission.DEVICES_MANAGE,
           response=SessionOut)
async def technician_session(call: Call) -> SessionOut:
    assert call.session is not None
    return session_out(call.request, call.session)


@API.route("DELETE", "/tech/session", summary="Se déconnecter de la page technicien", tags=_TAGS, access=Permission.DEVICES_MANAGE,
           status=204, allow_locked=True)
async def technician_logout(call: Call) -> web.Response:
    assert call.session is not None
    p = call.session.principal
    event = audit.AuditEvent(actor=p.login, role=p.role.value, action="technician.logout", remote_addr=call.remote_addr)
    await services_of(call.request).store.write(sessions.close, call.session.id, event, essential=True)
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def _sync_state(db, config) -> SyncStateOut:  # noqa: ANN001
    state = queue.status(db)

    def item(row: dict[str, Any]) -> SyncItemOut:
        return SyncItemOut(id=row["id"], at=row["at"], label=row["label"], operation_label=row["operation_label"], state_label=row["state_label"],
                           dossier=row["dossier_id"][:8] if row["dossier_id"] else None, attempts=row["attempts"], last_error=row["last_error"])
    return SyncStateOut(server=config.sync.fhir_base_url, authentication=auth_words(config, db), counts=state["counts"],
                        pending=state["pending"], oldest=state["oldest"], error=state["error"], next_try_at=state["next_try_at"],
                        problems=[item(r) for r in queue.items(db, (queue.CONFLICT, queue.REFUSED), 100)],
                        waiting=[item(r) for r in queue.items(db, (queue.PENDING,), 100)])


@API.route("GET", "/tech/diagnostics", summary="État du chariot : système, envoi au serveur régional, dernier appel",
           tags=_TAGS, access=Permission.DEVICES_MANAGE, response=DiagnosticsOut)
async def technician_diagnostics(call: Call) -> DiagnosticsOut:
    services = services_of(call.request)
    system = diagnostics.snapshot(services.config.storage.data_dir, services.lifecycle.started)
    stats = await services.calls.stats()
    # who takes part is the dossier's business: the technician sees roles and figures only
    stats["participants"] = [{k: v for k, v in p.items() if k != "name"} for p in stats["participants"]]
    return DiagnosticsOut(system=system, sync=await services.store.read(_sync_state, services.config), call=stats)


@API.route("GET", "/tech/support-bundle", summary="Dossier de support (journal, configuration sans secret, diagnostic), sans donnée de santé",
           tags=_TAGS, access=Permission.DEVICES_MANAGE, content_type="application/zip")
async def technician_support_bundle(call: Call) -> web.Response:
    services = services_of(call.request)
    system = diagnostics.snapshot(services.config.storage.data_dir, services.lifecycle.started)
    content = await services.store.read(support_bundle.bundle, services.config, system)
    await services.store.write(audit.append, audit.AuditEvent(actor=call.actor.login, role=call.actor.role, action="technician.support_bundle",
                               remote_addr=call.remote_addr, detail=f"{len(content)} octets"), essential=True)
    name = f"telecart-support-{services.technician.cart_name}-{time.strftime('%Y%m%d-%H%M%S')}.zip".replace(" ", "_")
    return web.Response(body=content, content_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{name.encode("ascii", "replace").decode()}"'})


@API.route("GET", "/tech/enrolment", summary="Enrôlement auprès du serveur régional : adresse, identifiant client, clé publique du chariot",
           tags=_TAGS, access=Permission.DEVICES_MANAGE, response=EnrolmentOut)
async def technician_enrolment(call: Call) -> EnrolmentOut:
    services = services_of(call.request)
    sync = services.config.sync
    try:
        key = smart_auth.read_key(services.config.storage.data_dir)
    except smart_auth.AuthError:
        key = None
    return EnrolmentOut(fhir_base_url=sync.fhir_base_url, identifier_base=sync.identifier_base, auth=sync.auth,
                        client_id=sync.client_id or await services.store.read(queue.cart_id),
                        jwks=smart_auth.public_jwks(key) if key else None)


@API.route("POST", "/tech/enrolment/key", summary="Créer la clé du chariot pour le serveur régional (une fois ; la clé privée reste sur le chariot)",
           tags=_TAGS, access=Permission.DEVICES_MANAGE, response=EnrolmentOut, status=201)
async def technician_make_key(call: Call) -> EnrolmentOut:
    services = services_of(call.request)
    try:
        key, made = smart_auth.make_key(services.config.storage.data_dir)
    except smart_auth.AuthError as error:
        raise ApiError("bad_request") from error
    await services.store.write(audit.append, audit.AuditEvent(actor=call.actor.login, role=call.actor.role, action="sync.enrol",
                               remote_addr=call.remote_addr, detail=f"clé {key.kid} {'créée' if made else 'déjà présente'}"), essential=True)
    return await technician_enrolment(call)


@API.route("GET", "/tech/cameras/preview", summary="Aperçu de la caméra active pour la régler (hors appel seulement ; consulté, il est tracé)",
           tags=_TAGS, access=Permission.DEVICES_MANAGE, content_type="multipart/x-mixed-replace; boundary=telecart-preview", errors=(409,))
async def technician_camera_preview(call: Call) -> web.StreamResponse:
    """The technician aims and checks the cameras while installing the cart; never during a call
    (a resident would be on it), and each look is in the audit trail."""
    services = services_of(call.request)
    if services.calls.cart_room is not None:
        raise ApiError("preview_during_call")
    await services.store.write(audit.append, audit.AuditEvent(actor=call.actor.login, role=call.actor.role, action="technician.camera_preview",
                               remote_addr=call.remote_addr, detail=services.devices.cameras.active_label), essential=True)
    return await stream_preview(call)


@API.route("PUT", "/tech/cameras/active", summary="Choisir la caméra à régler (hors appel seulement)", tags=_TAGS,
           access=Permission.DEVICES_MANAGE, body=CameraChoice, response=CamerasOut, errors=(409,))
async def technician_switch_camera(call: Call) -> CamerasOut:
    services = services_of(call.request)
    if services.calls.cart_room is not None:  # the call's picture is the nurse's to choose
        raise ApiError("preview_during_call")
    try:
        services.devices.cameras.switch(call.body.camera)
    except KeyError as exc:
        raise ApiError("camera_unavailable") from exc
    return CamerasOut(**services.devices.cameras.state())


# --- network (agent/technician/network.py) -------------------------------------------------------


async def _network_device(services, path: str, wifi: bool = False, modem: bool = False) -> dict[str, Any]:  # noqa: ANN001
    """One of the cart's interfaces NetworkManager lists, of that kind: no other D-Bus object is touched."""
    overview = await _overview(services)
    device = next((d for d in overview["devices"] if d["path"] == path and (not wifi or d["wifi"]) and (not modem or d["modem"])), None)
    if device is None:
        raise ApiError("not_found")
    return device


async def _overview(services) -> dict[str, Any]:  # noqa: ANN001
    try:
        return await services.network.overview()
    except NetworkError as error:
        raise ApiError("network_unavailable", reason=str(error)) from error


@API.route("GET", "/tech/network", summary="Le réseau du chariot : accès à Internet, chaque interface (filaire, Wi-Fi, 4G) et son adresse",
           tags=_TAGS, access=Permission.DEVICES_MANAGE, response=NetworkOut, errors=(503,))
async def technician_network(call: Call) -> NetworkOut:
    return NetworkOut(**await _overview(services_of(call.request)))


@API.route("GET", "/tech/network/wifi", summary="Les réseaux Wi-Fi à portée, du plus fort au plus faible", tags=_TAGS,
           access=Permission.DEVICES_MANAGE, query=WifiQuery, response=WifiNetworksOut, errors=(503,))
async def technician_wifi_networks(call: Call) -> WifiNetworksOut:
    services = services_of(call.request)
    device = await _network_device(services, call.query.device, wifi=True)
    try:
        found = await services.network.wifi_networks(device["path"])
    except NetworkError as error:
        raise ApiError("network_unavailable", reason=str(error)) from error
    return WifiNetworksOut(networks=[WifiNetworkOut(ssid=n.ssid, strength=n.strength, secured=n.secured) for n in found])


@API.route("POST", "/tech/network/wifi", summary="Rejoindre un réseau Wi-Fi (le chariot s'y reconnecte ensuite seul)", tags=_TAGS,
           access=Permission.DEVICES_MANAGE, body=WifiJoinIn, response=NetworkOut, status=201, errors=(404, 422, 503))
async def technician_join_wifi(call: Call) -> NetworkOut:
    services = services_of(call.request)
    body: WifiJoinIn = call.body
    device = await _network_device(services, body.device, wifi=True)
    try:
        network = next((n for n in await services.network.wifi_networks(device["path"]) if n.ssid == body.ssid), None)
        if network is None:
            raise ApiError("wifi_not_in_range", ssid=body.ssid)
        if network.secured and not 8 <= len(body.password) <= 63:
            raise ApiError("wifi_password_length")
        await services.network.join_wifi(device["path"], network, body.password)
    except NetworkError as error:
        raise ApiError("network_unavailable", reason=str(error)) from error
    await services.store.write(audit.append, audit.AuditEvent(actor=call.actor.login, role=call.actor.role, action="technician.network",
                               remote_addr=call.remote_addr, detail=f"Wi-Fi « {body.ssid} » sur {device['interface']}"), essential=True)
    return NetworkOut(**await _overview(services))


@API.route("POST", "/tech/network/mobile", summary="Utiliser le réseau mobile (4G) avec le point d'accès de l'opérateur", tags=_TAGS,
           access=Permission.DEVICES_MANAGE, body=MobileJoinIn, response=NetworkOut, status=201, errors=(404, 503))
async def technician_join_mobile(call: Call) -> NetworkOut:
    services = services_of(call.request)
    device = await _network_device(services, call.body.device, modem=True)
    try:
        await services.network.join_mobile(device["path"], call.body.apn)
    except NetworkError as error:
        raise ApiError("network_unavailable", reason=str(error)) from error
    await services.store.write(audit.append, audit.AuditEvent(actor=call.actor.login, role=call.actor.role, action="technician.network",
                               remote_addr=call.remote_addr, detail=f"4G, point d'accès « {call.body.apn} » sur {device['interface']}"), essential=True)
    return NetworkOut(**await _overview(services))


@API.route("POST", "/tech/updates", summary="Déposer un paquet de mise à jour signé : vérifié aussitôt, installé à l'essai par le système",
           tags=_TAGS, access=Permission.DEVICES_MANAGE, response=UpdateQueuedOut, status=202, errors=(422,), upload=True)
async def technician_upload_update(call: Call) -> UpdateQueuedOut:
    services = services_of(call.request)
    loop = asyncio.get_running_loop()

    async def check(verify, path, keys):  # noqa: ANN001, ANN202
        return await loop.run_in_executor(None, verify, path, keys)
    try:
        manifest = await incoming.receive(_file_part(call.request), services.config.storage.data_dir, services.config.update.keyring,
                                          UPDATE_LIMIT, check)
    except BundleRefused as refused:
        await _audited_update(call, audit.FAILURE, str(refused))
        raise ApiError("update_refused", reason=str(refused)) from refused
    await _audited_update(call, audit.SUCCESS, f"version {manifest.version} déposée")
    return UpdateQueuedOut(version=manifest.version)


UPDATE_LIMIT = 512 * 1024 * 1024


async def _file_part(request: web.Request) -> AsyncIterator[bytes]:
    """The `file` part of the form, chunk by chunk, never whole in memory."""
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if isinstance(part, BodyPartReader) and part.name == "file":
                while chunk := await part.read_chunk(1 << 20):
                    yield chunk
                return
    except (ValueError, AssertionError, HttpProcessingError) as exc:
        raise ApiError("bad_request") from exc
    raise ApiError("file_missing")


async def _audited_update(call: Call, outcome: str, detail: str) -> None:
    await services_of(call.request).store.write(audit.append, audit.AuditEvent(
        actor=call.actor.login, role=call.actor.role, action="technician.update", outcome=outcome, remote_addr=call.remote_addr,
        detail=detail), essential=True)


@API.route("GET", "/tech/updates", summary="Mises à jour : la version en service, la dernière tentative et son issue (dont un retour automatique)",
           tags=_TAGS, access=Permission.DEVICES_MANAGE, response=UpdatesOut)
async def technician_updates(call: Call) -> UpdatesOut:
    state = releases.read_state(services_of(call.request).config.update.root)
    return UpdatesOut(agent_version=__version__, running=state.get("running"), trial=state.get("trial"),
                      history=[UpdateEntryOut(**entry) for entry in state.get("history", [])])
