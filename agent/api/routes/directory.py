"""The directory of professionals: nurses pick from it, admins keep it."""

from __future__ import annotations

from agent.access.roles import Permission
from agent.api.context import services_of
from agent.api.errors import ApiError
from agent.api.registry import API
from agent.api.routing import SESSION, Call
from agent.api.schemas.directory import DirectoryList, DirectorySearch, ProfessionalIn, ProfessionalOut, ProfessionalPatch
from agent.dossiers import directory


@API.route("GET", "/directory", summary="Annuaire des professionnels (recherche par nom ou spécialité)", tags=("directory",),
           access=SESSION, query=DirectorySearch, response=DirectoryList)
async def list_professionals(call: Call) -> DirectoryList:
    found = await services_of(call.request).store.read(lambda db: directory.search(db, call.query.q, include_inactive=call.query.include_inactive))
    return DirectoryList(items=[ProfessionalOut(**directory.as_dict(p)) for p in found])


@API.route("POST", "/directory", summary="Ajouter un professionnel à l'annuaire", tags=("directory",),
           access=Permission.DIRECTORY_MANAGE, body=ProfessionalIn, response=ProfessionalOut, status=201)
async def add_professional(call: Call) -> ProfessionalOut:
    added = await services_of(call.request).store.write(directory.add, call.body.model_dump(), call.actor)
    return ProfessionalOut(**directory.as_dict(added))


@API.route("PATCH", "/directory/{id}", summary="Corriger ou retirer (active=false) un professionnel", tags=("directory",),
           access=Permission.DIRECTORY_MANAGE, body=ProfessionalPatch, response=ProfessionalOut)
async def update_professional(call: Call) -> ProfessionalOut:
    raw = call.request.match_info["id"]
    if not raw.isdigit():
        raise ApiError("not_found")
    updated = await services_of(call.request).store.write(directory.update, int(raw), call.body.model_dump(exclude_unset=True), call.actor)
    if updated is None:
        raise ApiError("not_found")
    return ProfessionalOut(**directory.as_dict(updated))
