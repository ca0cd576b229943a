"""Request and response bodies of the API (pydantic models, the source of the OpenAPI schemas)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.access.roles import Role
from agent.dossier import DossierState


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    error: str = Field(description="Stable machine-readable code, e.g. bad_credentials")
    message: str = Field(description="Explanation in French, for the user")
    fields: list[FieldError] | None = None


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    uptime_seconds: float
    simulate: bool


# --- session -------------------------------------------------------------------------------

class LoginRequest(Strict):
    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    otp: str = Field(min_length=1, max_length=16, description="The 6-digit one-time code (RFC 6238)")


class UnlockRequest(Strict):
    password: str = Field(min_length=1, max_length=256)
    otp: str = Field(min_length=1, max_length=16)


class LockQuery(Strict):
    reason: Literal["manual", "idle"] = Field("manual", description="idle: the kiosk locked itself after its idle time")


class UserOut(BaseModel):
    login: str
    display_name: str
    role: Role
    role_label: str
    permissions: list[str]


class SessionOut(BaseModel):
    user: UserOut
    method: str
    csrf_token: str = Field(description="Echo it in the X-CSRF-Token header of every POST, PATCH, PUT and DELETE")
    locked: bool
    idle_lock_seconds: float
    expires_at: float = Field(description="Epoch seconds")


# --- patients --------------------------------------------------------------------------------

_NAME = r"^[^\x00-\x1f<>]+$"


class PatientCreate(Strict):
    birth_name: str = Field(min_length=1, max_length=100, pattern=_NAME)
    used_name: str | None = Field(None, max_length=100, pattern=_NAME)
    first_names: list[str] = Field(min_length=1, max_length=10)
    birth_date: date
    sex: Literal["F", "M", "I"]
    identity_status: Literal["PROV", "RECUP", "VALI", "QUAL"] = "PROV"

    @field_validator("birth_name", "used_name")
    @classmethod
    def _trimmed(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("ne peut pas être vide")
        return value.strip() if value else value

    @field_validator("first_names")
    @classmethod
    def _first_names(cls, values: list[str]) -> list[str]:
        cleaned = [v.strip() for v in values]
        if any(not v or len(v) > 60 or any(c in v for c in "<>") or not v.isprintable() for v in cleaned):
            raise ValueError("chaque prénom doit faire de 1 à 60 caractères lisibles")
        return cleaned

    @field_validator("birth_date")
    @classmethod
    def _plausible(cls, value: date) -> date:
        if value > date.today():
            raise ValueError("la date de naissance est dans le futur")
        if value.year < 1890:
            raise ValueError("la date de naissance est invraisemblable")
        return value


class PatientOut(BaseModel):
    id: str
    birth_name: str
    used_name: str | None
    first_names: list[str]
    birth_date: str
    sex: str
    identity_status: str
    display_name: str
    created_at: str
    updated_at: str


class PageQuery(Strict):
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


class PatientList(BaseModel):
    items: list[PatientOut]
    total: int


# --- dossiers ---------------------------------------------------------------------------------

class DossierSummaryOut(BaseModel):
    id: str
    patient_id: str
    patient_name: str
    patient_birth_date: str
    patient_sex: str
    state: DossierState
    reason: str | None
    specialist: str | None
    specialty: str | None
    slot_start: str | None
    slot_minutes: int | None
    updated_at: str


class DossierList(BaseModel):
    items: list[DossierSummaryOut]
    total: int


# --- audit ------------------------------------------------------------------------------------

class AuditQuery(Strict):
    patient_id: str | None = Field(None, max_length=64)
    actor: str | None = Field(None, max_length=64)
    before_seq: int | None = Field(None, ge=1, le=2**62)
    limit: int = Field(100, ge=1, le=500)


class AuditRecordOut(BaseModel):
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


class AuditList(BaseModel):
    items: list[AuditRecordOut]
