"""Teleconsultation dossiers, as the activity view lists them."""

from __future__ import annotations

from dataclasses import asdict

from agent import dossier
from agent.access.roles import Permission
from agent.api.context import agent_of
from agent.api.routes import API
from agent.api.routing import Call
from agent.api.schemas import DossierList, DossierSummaryOut


@API.route("GET", "/dossiers", summary="Télédossiers de la vue activité", tags=("dossiers",),
           access=Permission.HEALTH_READ, response=DossierList)
async def list_dossiers(call: Call) -> DossierList:
    items, total = await agent_of(call.request).store.write(dossier.list_for_activity, call.actor, essential=True)
    return DossierList(items=[DossierSummaryOut(**asdict(item)) for item in items], total=total)
