"""What request handlers may use of the running agent, and nothing more: the `Services` that the
application object (agent/app.py) builds and hands to the web application. Handlers reach them
with `services_of(request)`; no module under agent/api/ imports the application object."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from agent.access.login import LoginPolicy
from agent.access.psc import PscClient
from agent.access.rate_limits import RateLimits
from agent.call.calls import Calls
from agent.config import Config
from agent.devices import Devices
from agent.links.invitation import Settings
from agent.metrics import Metrics
from agent.practice.mode import Practice
from agent.printing.service import PrintService
from agent.store import Store
from agent.store.blobs import BlobStore
from agent.technician.desk import TechnicianDesk
from agent.technician.network import NetworkManager
from agent.technician.system_clock import SystemClock


@dataclass
class Lifecycle:
    """Where the agent is in its life, for /healthz: started (monotonic seconds), ready to serve."""

    started: float
    ready: bool = False
    # Set by agent.app.serve under systemd: stop cleanly with exit status 75, which the unit's
    # Restart=on-failure turns into a restart (settings from the technician's page apply at start).
    restart: Callable[[], None] | None = None


@dataclass(frozen=True)
class Services:
    config: Config
    store: Store
    blobs: BlobStore
    metrics: Metrics
    devices: Devices
    calls: Calls
    dossier_settings: Settings
    login_policy: LoginPolicy
    rate_limits: RateLimits  # tries per address and overall at the doors that take a secret
    idle_lock_seconds: int
    password_checks: asyncio.Semaphore  # concurrent Argon2 verifications
    allowed_hosts: frozenset[str]
    openapi_document: Callable[[], dict[str, Any]]  # built at its first request, then kept (agent/api/openapi.py)
    lifecycle: Lifecycle
    psc: PscClient  # Pro Santé Connect, when [psc] enabled
    deliveries_wake: Callable[[], None]  # emails and SMS were just queued: send them now
    technician: TechnicianDesk  # the technician's page: the cart's name, its certificate's fingerprint, the first-boot code
    network: NetworkManager  # NetworkManager on the system bus, for the technician's page
    clock: SystemClock  # systemd-timedated on the system bus, for the technician's page
    printing: PrintService  # a dossier's PDFs to the EHPAD's printer through CUPS (agent/printing/)
    practice: Practice | None = None  # the practice mode (agent/practice/); None where it is off
    in_practice: bool = False  # these services are the practice agent's: demo data, nothing sent


SERVICES: web.AppKey[Services] = web.AppKey("services")


def services_of(request: web.Request) -> Services:
    return request.app[SERVICES]
