"""Patient identities: create, read, list. Every call is audited under the patient's id."""

from __future__ import annotations

from agent import identity
from agent.access.roles import Permission
from agent.api.context import agent_of
from agent.api.errors import ApiError
from agent.api.routes import API
from agent.api.routing import Call
from agent.api.schemas import PageQuery, PatientCreate, PatientList, PatientOut


def patient_out(found: identity.Identity) -> PatientOut:
    return PatientOut(
        id=found.id, birth_name=found.birth_name, used_name=found.used_name, first_names=found.first_names,
        birth_date=found.birth_date, sex=found.sex, identity_status=found.identity_status,
        display_name=found.display_name, created_at=found.created_at, updated_at=found.updated_at,
    )


@API.route("POST", "/patients", summary="Créer une identité patient", tags=("patients",),
           access=Permission.HEALTH_WRITE, body=PatientCreate, response=PatientOut, status=201)
async def create_patient(call: Call) -> PatientOut:
    body: PatientCreate = call.body
    new = identity.NewIdentity(
        birth_name=body.birth_name, used_name=body.used_name, first_names=body.first_names,
        birth_date=body.birth_date, sex=body.sex, identity_status=body.identity_status,
    )
    created = await agent_of(call.request).store.write(identity.create, new, call.actor)
    return patient_out(created)


@API.route("GET", "/patients/{id}", summary="Lire une identité patient", tags=("patients",),
           access=Permission.HEALTH_READ, response=PatientOut)
async def read_patient(call: Call) -> PatientOut:
    found = await agent_of(call.request).store.write(identity.read, call.request.match_info["id"], call.actor, essential=True)
    if found is None:
        raise ApiError("not_found")
    return patient_out(found)


@API.route("GET", "/patients", summary="Lister les identités patient (les plus récentes d'abord)", tags=("patients",),
           access=Permission.HEALTH_READ, query=PageQuery, response=PatientList)
async def list_patients(call: Call) -> PatientList:
    query: PageQuery = call.query
    items, total = await agent_of(call.request).store.write(identity.list_recent, call.actor, query.limit, query.offset, essential=True)
    return PatientList(items=[patient_out(i) for i in items], total=total)
