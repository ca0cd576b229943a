"""The dossier as routes answer it after reading or changing it (the staff's view, with the
participants' links). Shared by the dossier, fiche and call routes, so no route module imports
another."""

from __future__ import annotations

from dataclasses import asdict

from agent.api.context import services_of
from agent.api.errors import ApiError
from agent.api.routing import Call
from agent.api.schemas.dossiers import DossierOut
from agent.dossiers import dossier
from agent.dossiers.view import read_whole


def dossier_out(found: dossier.Dossier) -> DossierOut:
    return DossierOut(**asdict(found), state_label=found.state_label)


async def dossier_reply(call: Call) -> DossierOut:
    """The dossier of the route's {id}, read and audited as the caller's read."""
    services = services_of(call.request)
    found = await services.store.write(read_whole, call.request.match_info["id"], call.actor, services.dossier_settings, essential=True)
    if found is None:
        raise ApiError("not_found")
    return dossier_out(found)
