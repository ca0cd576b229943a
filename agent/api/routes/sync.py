"""The sync with the regional server, as the kiosk shows it: what waits, since when, why not yet."""

from __future__ import annotations

from sqlite_utils import Database

from agent.access.roles import Permission
from agent.api.context import services_of
from agent.api.registry import API
from agent.api.routing import Call
from agent.api.schemas.sync import DossierSyncOut, SyncOut
from cloud_sync import queue


def _summary(db: Database, configured: bool) -> SyncOut:
    state = queue.status(db)
    dossiers, since = queue.waiting_dossiers(db)
    counts = state["counts"]
    return SyncOut(configured=configured, waiting_dossiers=dossiers, waiting_since=since, pending=state["pending"],
                   problems=counts.get(queue.CONFLICT, 0) + counts.get(queue.REFUSED, 0), error=state["error"],
                   next_try_at=state["next_try_at"])


@API.route("GET", "/sync", summary="L'envoi au serveur régional : dossiers en attente, depuis quand, dernière erreur",
           tags=("sync",), response=SyncOut)
async def sync_status(call: Call) -> SyncOut:
    services = services_of(call.request)
    return await services.store.read(_summary, bool(services.config.sync.fhir_base_url))


@API.route("GET", "/dossiers/{id}/sync", summary="Ce qui de ce télédossier n'est pas encore sur le serveur régional",
           tags=("sync",), access=Permission.HEALTH_READ, response=DossierSyncOut)
async def dossier_sync(call: Call) -> DossierSyncOut:
    waiting = await services_of(call.request).store.read(queue.dossier_waiting, call.request.match_info["id"])
    return DossierSyncOut(waiting=waiting)
