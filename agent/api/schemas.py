"""Request and response bodies of the API (pydantic models, the source of the OpenAPI schemas)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent import contacts
from agent import ins as ins_rules
from agent.access.roles import Role
from agent.dossier import DossierState


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    field: str
    message: str


class DuplicateOut(BaseModel):
    id: str
    display_name: str
    birth_date: str


class ErrorBody(BaseModel):
    error: str = Field(description="Stable machine-readable code, e.g. bad_credentials")
    message: str = Field(description="Explanation in French, for the user")
    fields: list[FieldError] | None = None
    duplicates: list[DuplicateOut] | None = Field(None, description="likely_duplicate: the identities that may be this person")


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


class _IdentityRules(Strict):
    """Checks shared by creation and partial update: each applies to the fields present."""

    @field_validator("birth_name", "used_name", check_fields=False)
    @classmethod
    def _trimmed(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("ne peut pas être vide")
        return value.strip() if value else value

    @field_validator("first_names", check_fields=False)
    @classmethod
    def _first_names(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        cleaned = [v.strip() for v in values]
        if any(not v or len(v) > 60 or any(c in v for c in "<>") or not v.isprintable() for v in cleaned):
            raise ValueError("chaque prénom doit faire de 1 à 60 caractères lisibles")
        return cleaned

    @field_validator("birth_date", check_fields=False)
    @classmethod
    def _plausible(cls, value: date | None) -> date | None:
        if value is None:
            return None
        if value > date.today():
            raise ValueError("la date de naissance est dans le futur")
        if value.year < 1890:
            raise ValueError("la date de naissance est invraisemblable")
        return value

    @field_validator("birth_insee", check_fields=False)
    @classmethod
    def _insee(cls, value: str | None) -> str | None:
        return value.upper() if value else None  # Corsica: 2a004 is 2A004

    @field_validator("ins", check_fields=False)
    @classmethod
    def _ins(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return str(ins_rules.parse(value))
        except ins_rules.InvalidIns as exc:
            raise ValueError(str(exc)) from exc

    _email = field_validator("email", check_fields=False)(contacts.optional_email)
    _mobile = field_validator("mobile", check_fields=False)(contacts.optional_mobile)


_INSEE = r"^([0-9]{5}|2[ABab][0-9]{3})$"


class PatientCreate(_IdentityRules):
    birth_name: str = Field(min_length=1, max_length=100, pattern=_NAME)
    used_name: str | None = Field(None, max_length=100, pattern=_NAME)
    first_names: list[str] = Field(min_length=1, max_length=10)
    birth_date: date
    sex: Literal["F", "M", "I"]
    birth_insee: str | None = Field(None, pattern=_INSEE, description="INSEE code of the birth commune (France)")
    birth_country: str | None = Field(None, min_length=2, max_length=60, pattern=_NAME, description="Country of birth, when born abroad")
    ins: str | None = Field(None, max_length=32, description="NIR or NIA, 13 characters and the 2-digit key")
    email: str | None = Field(None, max_length=254)
    mobile: str | None = Field(None, max_length=32)
    identity_status: Literal["PROV", "RECUP", "VALI", "QUAL"] = "PROV"
    confirm_duplicate: bool = Field(False, description="Create even though a likely duplicate exists (409 likely_duplicate)")

    @model_validator(mode="after")
    def _consistent(self) -> PatientCreate:
        if self.birth_insee and self.birth_country:
            raise ValueError("lieu de naissance : une commune française ou un pays étranger, pas les deux")
        if self.identity_status in ("RECUP", "QUAL") and not self.ins:
            raise ValueError("une identité récupérée ou qualifiée a un INS")
        return self


class PatientPatch(_IdentityRules):
    birth_name: str | None = Field(None, min_length=1, max_length=100, pattern=_NAME)
    used_name: str | None = Field(None, max_length=100, pattern=_NAME)
    first_names: list[str] | None = Field(None, min_length=1, max_length=10)
    birth_date: date | None = None
    sex: Literal["F", "M", "I"] | None = None
    birth_insee: str | None = Field(None, pattern=_INSEE)
    birth_country: str | None = Field(None, min_length=2, max_length=60, pattern=_NAME)
    ins: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)
    mobile: str | None = Field(None, max_length=32)
    identity_status: Literal["PROV", "RECUP", "VALI", "QUAL"] | None = None


class PatientOut(BaseModel):
    id: str
    birth_name: str
    used_name: str | None
    first_names: list[str]
    birth_date: str
    sex: str
    birth_insee: str | None
    birth_country: str | None
    ins: str | None = Field(description="Only for a qualified identity (QUAL)")
    email: str | None
    mobile: str | None
    identity_status: str
    display_name: str
    match: float = Field(description="Match rate of a search, 0-100")
    created_at: str
    updated_at: str


class PatientSearch(Strict):
    name: str | None = Field(None, max_length=100)
    first_name: str | None = Field(None, max_length=60)
    birth_date: date | None = None
    ins: str | None = Field(None, max_length=32)
    sex: Literal["F", "M", "I"] | None = None
    mode: Literal["exact", "approaching", "phonetic"] = "exact"
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
