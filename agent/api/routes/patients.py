"""Patient identities: create, read, list. Every call is audited under the patient's id. And the
communes of birth (INSEE's codes, agent/identity/communes.py): reference data, not audited."""

from __future__ import annotations

import asyncio

from agent.access.roles import Permission
from agent.api.context import services_of
from agent.api.errors import ApiError, from_validation_errors
from agent.api.registry import API
from agent.api.routing import SESSION, Call
from agent.api.schemas.patients import (
    CommuneList,
    CommuneOut,
    CommuneSearch,
    PatientCreate,
    PatientList,
    PatientOut,
    PatientPatch,
    PatientSearch,
)
from agent.clock import french_date
from agent.identity import communes, patients, quick_search
from agent.identity import ins as ins_rules


def patient_out(found: patients.Identity) -> PatientOut:
    birthplace = communes.lookup(found.birth_insee) if found.birth_insee else None
    return PatientOut(
        id=found.id, birth_name=found.birth_name, used_name=found.used_name, first_names=found.first_names,
        birth_date=found.birth_date, sex=found.sex, birth_insee=found.birth_insee, birth_country=found.birth_country,
        ins=found.shown_ins, email=found.email, mobile=found.mobile, civility=found.civility, address_line=found.address_line,
        postal_code=found.postal_code, city=found.city, identity_status=found.identity_status,
        display_name=found.display_name, match=found.match, created_at=found.created_at, updated_at=found.updated_at,
        birth_place=birthplace.label if birthplace else None,
    )



def _born(sex: str) -> str:
    return {"F": "née", "M": "né"}.get(sex, "né(e)")


@API.route("POST", "/patients", summary="Créer une identité patient (409 si un doublon probable existe)", tags=("patients",),
           access=Permission.HEALTH_WRITE, body=PatientCreate, response=PatientOut, status=201, errors=(409,))
async def create_patient(call: Call) -> PatientOut:
    body: PatientCreate = call.body
    new = patients.NewIdentity(**body.model_dump(exclude={"confirm_duplicate"}))
    created = await services_of(call.request).store.write(patients.create_unless_duplicate, new, call.actor, body.confirm_duplicate)
    if isinstance(created, list):
        raise ApiError(
            "likely_duplicate",
            names=", ".join(f"{d.display_name} ({_born(d.sex)} le {french_date(d.birth_date)})" for d in created),
            duplicates=[{"id": d.id, "display_name": d.display_name, "birth_date": d.birth_date, "sex": d.sex,
                         "identity_status": d.identity_status} for d in created],
        )
    return patient_out(created)


@API.route("GET", "/patients/{id}", summary="Lire une identité patient", tags=("patients",),
           access=Permission.HEALTH_READ, response=PatientOut)
async def read_patient(call: Call) -> PatientOut:
    found = await services_of(call.request).store.write(patients.read, call.request.match_info["id"], call.actor, essential=True)
    if found is None:
        raise ApiError("not_found")
    return patient_out(found)


_REQUIRED = ("birth_name", "first_names", "birth_date", "sex", "identity_status")


@API.route("PATCH", "/patients/{id}", summary="Corriger une identité patient (traits stricts d'une identité INSi : nouvelle qualification seulement)",
           tags=("patients",), access=Permission.HEALTH_WRITE, body=PatientPatch, response=PatientOut, errors=(409,))
async def update_patient(call: Call) -> PatientOut:
    body: PatientPatch = call.body
    changes = body.model_dump(exclude_unset=True)
    cleared = [name for name in _REQUIRED if name in changes and changes[name] is None]
    if cleared:  # an identity keeps its required fields: they can be corrected, not removed
        raise from_validation_errors([{"loc": (name,), "type": "missing", "msg": ""} for name in cleared])
    updated = await services_of(call.request).store.write(patients.update, call.request.match_info["id"], changes, call.actor)
    if updated is None:
        raise ApiError("not_found")
    return patient_out(updated)


@API.route("GET", "/patients", summary="Rechercher des identités (exacte, approchante, phonétique) ; sans critère : les plus récentes",
           tags=("patients",), access=Permission.HEALTH_READ, query=PatientSearch, response=PatientList)
async def list_patients(call: Call) -> PatientList:
    query: PatientSearch = call.query
    ins = ins_rules.normalise(query.ins) if query.ins else None
    criteria = patients.SearchCriteria(query.name, query.first_name, query.birth_date, ins, query.sex, query.mode)
    store = services_of(call.request).store
    typed = quick_search.parse(query.q or "")
    if typed.any():
        items, total, found_by = await store.write(quick_search.search, typed, call.actor, query.limit, query.offset, essential=True)
        return PatientList(items=[patient_out(i) for i in items], total=total, found_by=found_by)
    if criteria.any():
        items, total = await store.write(patients.search, criteria, call.actor, query.limit, query.offset, essential=True)
    else:
        items, total = await store.write(patients.list_recent, call.actor, query.limit, query.offset, essential=True)
    return PatientList(items=[patient_out(i) for i in items], total=total)


@API.route("GET", "/communes", summary="Chercher une commune de naissance par son nom, son code INSEE ou un code postal",
           tags=("patients",), access=SESSION, query=CommuneSearch, response=CommuneList)
async def search_communes(call: Call) -> CommuneList:
    query: CommuneSearch = call.query
    found = await asyncio.get_running_loop().run_in_executor(None, communes.search, query.q)  # a scan of 2 MB: ~5 ms
    return CommuneList(items=[CommuneOut(code=c.code, name=c.name, department=c.department, label=c.label,
                                         current=c.current) for c in found])
