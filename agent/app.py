"""The agent, the application object: it builds the services in named steps and starts them in
order, then stops them in reverse.

init_store -> init_devices -> init_calls -> init_services (what the routes may use), then
start_store -> start_card_reader -> start_sensors -> start_http -> start_deliveries -> start_sync -> start_housekeeping -> ready (READY=1 to
systemd, /healthz answers 200) -> start_announcing ... SIGTERM -> stop, in reverse.

Each consumer gets only what it uses: the calls their store, blobs, metrics, settings and
devices; request handlers the `Services` of agent/api/context.py. Nothing imports this module
but the CLI, so no module reaches back into the whole agent.

The media stack (aiortc, PyAV, numpy) is not imported here nor by anything the start imports: the
calls, the cameras and the practice mode load it when first used; nor are fhir.resources (the
first entry synced), reportlab and Pillow (the first PDF drawn), zeroconf (the announcer, after
ready), psutil (the technician's page) or the OpenAPI document (built at its first request)
(docs/architecture.md, "What loads when"); tests/architecture/test_start_weight.py holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import socket
import time
from dataclasses import replace
from datetime import UTC, datetime

import aiohttp
from aiohttp import web

from agent import __version__, tls
from agent.access import sessions, throttle
from agent.access.login import LoginPolicy
from agent.access.psc import PscClient
from agent.access.rate_limits import RateLimits
from agent.api.context import Lifecycle, Services
from agent.api.guard import allowed_hosts
from agent.api.openapi import lazy_document
from agent.api.routes import API
from agent.api.server import build_app
from agent.call.calls import Calls
from agent.clock import now
from agent.config import Config
from agent.devices import Devices, bluetooth_pairings, devices_from_config
from agent.devices.sensors import Sensor
from agent.dossiers import expertise
from agent.links import invitation
from agent.logs import fields
from agent.metrics import Metrics
from agent.notify.mssante import MssanteSender
from agent.notify.queue import CHANNELS, Dispatcher
from agent.practice.mode import Practice, practice_config
from agent.practice.sending import SendsNothing
from agent.printing.service import PrintService
from agent.service_manager import ServiceManager
from agent.store import Store, files
from agent.store.blobs import BlobStore
from agent.technician.desk import TechnicianDesk
from agent.technician.discovery import Announcement, Announcer
from agent.technician.network import NetworkManager
from agent.technician.system_clock import SystemClock
from cloud_sync import queue, smart_auth
from cloud_sync.worker import SyncWorker

log = logging.getLogger("agent")

HOUSEKEEPING_SECONDS = 300


class Agent:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.lifecycle = Lifecycle(started=time.monotonic())
        self.service = ServiceManager()
        self.metrics = Metrics()
        self.dossier_settings = invitation.settings_from(config)
        self.store, self.blobs = self.init_store()
        self.devices = self.init_devices()
        self.calls = self.init_calls()
        self.services = self.init_services()
        if self.services.practice is not None and not self.services.in_practice:
            self.services.practice.real_presence = self.calls.presence
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._dispatcher: Dispatcher | None = None
        self._dispatching: asyncio.Task[None] | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self._sync: SyncWorker | None = None
        self._sync_http: aiohttp.ClientSession | None = None
        self._syncing: asyncio.Task[None] | None = None
        self._announcer: Announcer | None = None

    # --- init: build, open nothing ----------------------------------------------------------

    def init_store(self) -> tuple[Store, BlobStore]:
        storage = self.config.storage
        return Store(storage.data_dir, storage.min_free_mib * 1024 * 1024), BlobStore(storage.data_dir / "blobs")

    def init_devices(self) -> Devices:
        return devices_from_config(self.config)

    def init_calls(self) -> Calls:
        return Calls(self.config.call, self.store, self.blobs, self.metrics, self.dossier_settings, self.devices)

    def init_services(self) -> Services:
        sec, server = self.config.security, self.config.server
        return Services(
            config=self.config, store=self.store, blobs=self.blobs, metrics=self.metrics, devices=self.devices,
            calls=self.calls, dossier_settings=self.dossier_settings,
            login_policy=LoginPolicy(max_failed=sec.max_failed_logins, lockout_seconds=sec.lockout_minutes * 60,
                                     otp_window=sec.otp_valid_window, session_seconds=sec.session_hours * 3600),
            rate_limits=RateLimits(), idle_lock_seconds=sec.idle_lock_minutes * 60, password_checks=asyncio.Semaphore(2),
            allowed_hosts=allowed_hosts(server.host, [server.port, server.https_port], server.public_url, server.allowed_hosts),
            openapi_document=lazy_document(API, __version__), lifecycle=self.lifecycle, deliveries_wake=self.deliveries_wake,
            psc=PscClient(self.config.psc, server.public_url, self.config.network.http_proxy),
            technician=TechnicianDesk.named(self.config.technician.cart_name, server.https_port, self.config.technician.page),
            network=NetworkManager(),
            clock=SystemClock(),
            printing=PrintService(self.config.printing, self.store, self.blobs, self.dossier_settings),
            practice=Practice(self.config.practice, self.config.storage.data_dir, self._start_practice, self.store) if self.config.practice.enabled else None,
        )

    async def _start_practice(self, practice: Practice, sock: socket.socket) -> PracticeAgent:
        # The simulated doctor's media (aiortc, Pillow, PyAV) and the demo data, loaded off the loop.
        await asyncio.get_running_loop().run_in_executor(None, _load_practice)
        agent = PracticeAgent(practice_config(self.config, practice.directory, sock.getsockname()[1]), self.devices, practice, sock)
        try:
            await agent.start()
        except BaseException:
            await agent.stop()
            raise
        return agent

    # --- start: in order ----------------------------------------------------------------------

    async def start(self) -> None:
        await self.start_store()
        if self.services.practice is not None:  # a practice a power cut or a crash ended
            await asyncio.get_running_loop().run_in_executor(None, self.services.practice.erase)
        self.start_card_reader()
        await self.start_sensors()
        await self.start_http()
        self.start_deliveries()
        await self.start_sync()
        self.start_housekeeping()
        self.lifecycle.ready = True
        server = self.config.server
        self.service.ready(f"serving on {server.host}:{server.port}")
        log.info("agent ready on http://%s:%d", server.host, server.port,
                 extra=fields(event="ready", port=server.port, simulate=self.config.devices.simulate,
                              startup_seconds=round(time.monotonic() - self.lifecycle.started, 3)))
        await self.start_announcing()  # after ready: nothing waits for it, and it imports zeroconf (in a worker thread)

    async def start_store(self) -> None:
        await self.store.open()
        removed = await asyncio.get_running_loop().run_in_executor(None, self.blobs.remove_leftovers)
        if removed:
            log.warning("removed %d half-written blobs left by a crash", removed)
        unused = await self.store.write(files.remove_unused, self.blobs, essential=True)
        if unused:
            log.warning("removed %d files no row uses (a write refused, or a crash between file and row)", unused)

    async def start_http(self) -> None:
        self._runner = web.AppRunner(build_app(self.services), access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        server = self.config.server
        await web.TCPSite(self._runner, server.host, server.port, reuse_address=True).start()
        if server.https_port:
            context = await asyncio.get_running_loop().run_in_executor(None, tls.server_context, server, self.config.storage.data_dir)
            await web.TCPSite(self._runner, server.public_host, server.https_port, ssl_context=context, reuse_address=True).start()
            cert, _ = tls.certificate_files(server, self.config.storage.data_dir)
            self.services.technician.fingerprint = tls.fingerprint(cert)

    async def start_announcing(self) -> None:
        """The cart found on the EHPAD's network by zeroconf (agent/technician/discovery.py), when
        `[technician] announce` and the page are on; started once the agent is ready."""
        desk, settings = self.services.technician, self.config.technician
        if not (settings.announce and desk.enabled):
            return
        cart_id = await self.store.read(queue.cart_id)
        self._announcer = Announcer(Announcement(desk.cart_name, desk.https_port, desk.fingerprint.replace(":", "").lower(), cart_id),
                                    settings.announce_interfaces)
        await self._announcer.start()

    def start_card_reader(self) -> None:
        """Readers watched from now on; a CPS card pulled out locks the sessions it opened."""
        async def card_removed(card: str) -> None:
            events = await self.store.write(sessions.lock_by_card, card, essential=True)
            if events:
                log.info("card pulled out: %d session(s) locked", len(events), extra=fields(event="card_removed"))
        self.devices.card.on_card_removed = card_removed
        self.devices.card.start()

    async def start_sensors(self) -> None:
        """Sensors read from now on; one that drops out during a call is said on every screen of it."""
        async def said_in_call(text: str) -> None:
            if self.calls.cart_room is not None:
                await self.calls.cart_room.notice(text)

        async def dropped(sensor: Sensor) -> None:
            await said_in_call(f"{sensor.name} : {sensor.reason or 'ne transmet plus'}. Ses valeurs ne sont plus à jour.")

        async def back(sensor: Sensor) -> None:
            await said_in_call(f"{sensor.name} transmet de nouveau.")

        self.devices.sensors.on_dropout, self.devices.sensors.on_back = dropped, back
        await self.devices.sensors.start(await self.store.read(bluetooth_pairings.paired))

    def start_deliveries(self) -> None:
        self._http = aiohttp.ClientSession(proxy=self.config.network.http_proxy or None)
        self._dispatcher = Dispatcher(self.store, self.config.mail, self.config.sms, self._http,
                                      senders={"mssante": MssanteSender(self.config.mssante, self.blobs)})
        self._dispatching = asyncio.get_running_loop().create_task(self._dispatcher.run())

    async def start_sync(self) -> None:
        """The outbox drained to the regional server (nothing sent while [sync] fhir_base_url is empty),
        over an HTTP session of its own: the cart's client certificate is for the region only."""
        config = self.config.sync
        auth: smart_auth.Auth | None = None
        try:
            context = smart_auth.ssl_context(config)
        except smart_auth.AuthError as error:  # said on each try (`telecart sync status`); the cart goes on working
            context, auth = None, smart_auth.Unusable(str(error))
            log.error("sync: %s", error, extra=fields(event="sync_tls_unusable"))
        # The EHPAD's proxy, if any ([network] http_proxy): aiohttp tunnels HTTPS through it with
        # CONNECT, so the client certificate and the server's verification are end to end.
        self._sync_http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context) if context else None,
                                                proxy=self.config.network.http_proxy or None)
        if auth is None and config.auth == "smart":
            client_id = config.client_id or await self.store.read(queue.cart_id)
            auth = smart_auth.SmartToken(self._sync_http, config, self.config.storage.data_dir, client_id)
        self._sync = SyncWorker(self.store, self.blobs, config, self._sync_http, auth,
                                max_document_bytes=self.config.dossiers.max_upload_mib * 1024 * 1024)
        self._syncing = asyncio.get_running_loop().create_task(self._sync.run())

    def start_housekeeping(self) -> None:
        self._housekeeping = asyncio.get_running_loop().create_task(self._housekeep())

    async def _housekeep(self) -> None:
        while True:
            try:
                purged = await self.store.write(sessions.purge_expired, now(), essential=True)
                if purged:
                    log.info("purged %d expired sessions", purged)
                await self.store.write(throttle.purge_stale, now(), essential=True)
                if await self.store.write(expertise.remind_due, datetime.now(UTC), self.dossier_settings):
                    self.deliveries_wake()
            except Exception:  # a full disk or a locked database must not end housekeeping for good
                log.exception("housekeeping failed; retrying later", extra=fields(event="housekeeping_failed"))
            await asyncio.sleep(HOUSEKEEPING_SECONDS)

    def deliveries_wake(self) -> None:
        """Emails and SMS were just queued: send them now rather than at the next retry."""
        if self._dispatcher is not None:
            self._dispatcher.wake()

    # --- stop: in reverse ---------------------------------------------------------------------

    async def stop(self) -> None:
        self.lifecycle.ready = False
        await self.service.stopping()
        for task in (self._housekeeping, self._syncing, self._dispatching):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        for session in (self._http, self._sync_http):
            if session:
                await session.close()
        if self._announcer:
            await self._announcer.stop()
        if self.services.practice is not None:  # before the devices it borrows
            await self.services.practice.leave()
        await self.services.psc.close()
        await self.services.printing.close()  # before the store: unfinished prints get their outcome audited
        await self.calls.close()
        await self.devices.sensors.stop()
        await self.devices.card.stop()
        if self._runner:
            await self._runner.cleanup()
        await self.store.close()
        log.info("agent stopped", extra=fields(event="stopped"))


def _load_practice() -> None:
    for module in ("agent.practice.specialist", "agent.demo"):
        importlib.import_module(module)


class PracticeAgent(Agent):
    """The practice mode's own agent (agent/practice/): the demo in a directory of its own, the cart's
    devices borrowed from the real agent, on a loopback socket made by the mode; messages sent by a
    sender that sends nothing, no sync, no printing, a simulated specialist in its calls. Stopping
    it leaves the devices to their owner."""

    def __init__(self, config: Config, devices: Devices, practice: Practice, sock: socket.socket) -> None:
        from agent.practice.specialist import SimulatedSpecialist

        self._borrowed, self._practice, self._sock = devices, practice, sock
        super().__init__(config)
        self.specialist = SimulatedSpecialist(self.store, self.blobs, self.dossier_settings, config.call,
                                              config.practice.prescription_after_seconds)
        self.calls.on_cart_entered = self.specialist.cart_entered

    def init_devices(self) -> Devices:
        return self._borrowed

    def init_services(self) -> Services:
        return replace(super().init_services(), practice=self._practice, in_practice=True,
                       printing=PrintService(self.config.printing, self.store, self.blobs, self.dossier_settings, practice=True))

    async def start(self) -> None:
        from agent import demo

        await self.start_store()
        await self.store.write(demo.seed, self.dossier_settings)
        await self.start_http()
        self.start_deliveries()
        self.lifecycle.ready = True

    async def start_http(self) -> None:
        self._runner = web.AppRunner(build_app(self.services), access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.SockSite(self._runner, self._sock).start()

    def start_deliveries(self) -> None:
        self._http = aiohttp.ClientSession()
        self._dispatcher = Dispatcher(self.store, self.config.mail, self.config.sms, self._http,
                                      senders={channel: SendsNothing() for channel in CHANNELS})
        self._dispatching = asyncio.get_running_loop().create_task(self._dispatcher.run())

    async def stop(self) -> None:
        self.lifecycle.ready = False
        await self.specialist.close()
        if self._dispatching:
            self._dispatching.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._dispatching
        if self._http:
            await self._http.close()
        await self.services.printing.close()
        await self.calls.close()
        if self._runner:
            await self._runner.cleanup()
        await self.store.close()


RESTART_STATUS = 75  # EX_TEMPFAIL: the unit's Restart=on-failure starts the agent again


async def serve(config: Config) -> int:
    """Run until SIGTERM or SIGINT (exit status 0), or until the technician's page asks for a
    restart under systemd (RESTART_STATUS)."""
    agent = Agent(config)
    stop = asyncio.Event()
    restarting = False
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if os.environ.get("NOTIFY_SOCKET"):  # without a service manager, nobody would start it again

        def restart() -> None:
            nonlocal restarting
            restarting = True
            stop.set()
        agent.lifecycle.restart = restart
    try:
        await agent.start()
        await stop.wait()
        log.info("restarting to apply new settings" if restarting else "stopping on signal", extra=fields(event="stopping"))
    finally:
        await agent.stop()
    return RESTART_STATUS if restarting else 0
