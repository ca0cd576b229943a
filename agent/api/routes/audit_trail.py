"""The audit trail, for admins, filtered by patient or user. Reading it is itself audited."""

from __future__ import annotations

from dataclasses import asdict

from sqlite_utils import Database

from agent import audit
from agent.access.roles import LABELS_FR, Permission, Role
from agent.api.context import services_of
from agent.api.registry import API
from agent.api.routing import Call
from agent.api.schemas.audit import AuditList, AuditQuery, AuditRecordOut

_SHOWN = set(AuditRecordOut.model_fields) - {"role_label"}


def _read(db: Database, query: AuditQuery, reader: audit.AuditEvent) -> list[audit.AuditRecord]:
    records = list(audit.search(db, patient_id=query.patient_id, actor=query.actor, before_seq=query.before_seq, limit=query.limit))
    audit.append(db, reader)
    return records


@API.route("GET", "/audit", summary="Journal des accès (filtrable par patient ou utilisateur)", tags=("audit",),
           access=Permission.AUDIT_READ, query=AuditQuery, response=AuditList)
async def read_audit(call: Call) -> AuditList:
    assert call.session is not None
    query: AuditQuery = call.query
    p = call.session.principal
    reader = audit.AuditEvent(actor=p.login, role=p.role.value, action="audit.read", patient_id=query.patient_id,
                              remote_addr=call.remote_addr, detail=f"filtre utilisateur : {query.actor}" if query.actor else None)
    records = await services_of(call.request).store.write(_read, query, reader, essential=True)
    return AuditList(items=[
        AuditRecordOut(**{k: v for k, v in asdict(r).items() if k in _SHOWN}, role_label=_role_label(r.role)) for r in records
    ])


def _role_label(role: str | None) -> str | None:
    return LABELS_FR[Role(role)] if role in Role._value2member_map_ else role
