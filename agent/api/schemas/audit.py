"""The audit trail as the administrator reads it."""

from __future__ import annotations

from pydantic import Field

from agent.api.schemas.common import Schema, Strict


class AuditQuery(Strict):
    patient_id: str | None = Field(None, max_length=64)
    actor: str | None = Field(None, max_length=64)
    before_seq: int | None = Field(None, ge=1, le=2**62)
    limit: int = Field(100, ge=1, le=500)


class AuditRecordOut(Schema):
    seq: int
    at: str
    actor: str
    role: str | None
    role_label: str | None
    action: str
    patient_id: str | None
    remote_addr: str | None
    outcome: str
    detail: str | None


class AuditList(Schema):
    items: list[AuditRecordOut]
