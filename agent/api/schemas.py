"""Request and response bodies of the API (pydantic models, the source of the OpenAPI schemas)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from agent.access.roles import Role
from agent.dossiers.dossier import DossierState
from agent.identity import contacts
from agent.identity import ins as ins_rules


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    field: str
    message: str


class DuplicateOut(BaseModel):
    id: str
    display_name: str
    birth_date: str
    sex: str
    identity_status: str


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


def _iso_date_only(value: object) -> object:
    """pydantic reads 0 or "0" as 1970-01-01 (a Unix time); a birth date is written AAAA-MM-JJ."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("date attendue au format AAAA-MM-JJ")
    if isinstance(value, (int, float)):
        raise ValueError("date attendue au format AAAA-MM-JJ")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


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
    birth_date: IsoDate
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
    birth_date: IsoDate | None = None
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
    birth_date: IsoDate | None = None
    ins: str | None = Field(None, max_length=32)
    sex: Literal["F", "M", "I"] | None = None
    mode: Literal["exact", "approaching", "phonetic"] = "exact"
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


class PatientList(BaseModel):
    items: list[PatientOut]
    total: int


# --- dossiers ---------------------------------------------------------------------------------

class _Contact(Strict):
    """Someone who may be invited: an email and/or a mobile number, checked like a patient's."""

    _email = field_validator("email", check_fields=False)(contacts.optional_email)
    _mobile = field_validator("mobile", check_fields=False)(contacts.optional_mobile)


class ConsentIn(Strict):
    given: bool = Field(description="The resident (or their representative) agreed to the teleconsultation")
    comment: str | None = Field(None, max_length=1000, description="Required when consent was not given: why the teleconsultation goes ahead")

    @model_validator(mode="after")
    def _justified(self) -> ConsentIn:
        if not self.given and not (self.comment or "").strip():
            raise ValueError("consentement non recueilli : un commentaire doit le justifier")
        return self


class CompanionIn(_Contact):
    name: str = Field(min_length=1, max_length=100, pattern=_NAME)
    first_name: str | None = Field(None, max_length=60, pattern=_NAME)
    remote: bool = Field(False, description="Joins from elsewhere (invited by link) rather than present at the cart")
    email: str | None = Field(None, max_length=254)
    mobile: str | None = Field(None, max_length=32)

    @model_validator(mode="after")
    def _reachable(self) -> CompanionIn:
        if self.remote and not (self.email or self.mobile):
            raise ValueError("un accompagnant à distance reçoit l'invitation : indiquez son e-mail ou son téléphone portable")
        return self


class AccompanimentIn(Strict):
    kind: Literal["alone", "relative", "professional"] = Field(description="alone: the resident with the staff; relative; professional")
    companion: CompanionIn | None = None

    @model_validator(mode="after")
    def _companion(self) -> AccompanimentIn:
        if self.kind != "alone" and self.companion is None:
            raise ValueError("indiquez au moins le nom de l'accompagnant")
        if self.kind == "alone" and self.companion is not None:
            raise ValueError("un résident seul n'a pas d'accompagnant")
        return self


class ParticipantIn(_Contact):
    """Another participant invited to a dossier's room, during the call or before it."""

    role: Literal["relative", "professional"] = Field(description="A relative, or another health professional")
    name: str = Field(min_length=1, max_length=100, pattern=_NAME)
    first_name: str | None = Field(None, max_length=60, pattern=_NAME)
    email: str | None = Field(None, max_length=254)
    mobile: str | None = Field(None, max_length=32)

    @model_validator(mode="after")
    def _reachable(self) -> ParticipantIn:
        if not (self.email or self.mobile):
            raise ValueError("l'invitation part par e-mail ou SMS : indiquez l'un ou l'autre")
        return self


class SpecialistIn(_Contact):
    name: str = Field(min_length=1, max_length=100, pattern=_NAME)
    first_name: str | None = Field(None, max_length=60, pattern=_NAME)
    specialty: str = Field(min_length=1, max_length=80, pattern=_NAME)
    rpps: str | None = Field(None, pattern=r"^[0-9]{11}$", description="11-digit RPPS number")
    email: str | None = Field(None, max_length=254)
    mobile: str | None = Field(None, max_length=32)

    @model_validator(mode="after")
    def _reachable(self) -> SpecialistIn:
        if not (self.email or self.mobile):
            raise ValueError("le médecin requis reçoit toujours l'invitation : indiquez son e-mail ou son téléphone portable")
        return self


class DirectoryChoice(Strict):
    directory_id: int = Field(ge=1, description="A professional of the local directory")


class SlotIn(Strict):
    start: AwareDatetime | None = Field(None, description="ISO 8601 with its offset, e.g. 2026-11-25T14:30:00+01:00")
    duration_minutes: int = Field(30, ge=5, le=240)
    now: bool = Field(False, description="An immediate teleconsultation: the room opens at once")

    @model_validator(mode="after")
    def _one_of(self) -> SlotIn:
        if self.now == (self.start is not None):
            raise ValueError("créneau : une date de début, ou « maintenant », l'un des deux")
        return self


class DossierCreate(Strict):
    patient_id: str = Field(min_length=1, max_length=64)
    consent: ConsentIn
    accompaniment: AccompanimentIn
    specialist: Annotated[
        Annotated[SpecialistIn, Tag("manual")] | Annotated[DirectoryChoice, Tag("directory")],
        Discriminator(lambda v: "directory" if isinstance(v, dict) and "directory_id" in v else "manual"),
    ] = Field(description="Entered by hand, or {\"directory_id\"} from the local directory")
    slot: SlotIn
    reason: str | None = Field(None, max_length=500, description="Motif of the teleconsultation (also editable in the form)")


class DeliveryOut(BaseModel):
    channel: Literal["email", "sms"]
    recipient: str
    state: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None
    sent_at: str | None


class InvitationOut(BaseModel):
    id: str
    role: str
    role_label: str
    name: str | None
    first_name: str | None
    email: str | None
    mobile: str | None
    created_at: str
    revoked_at: str | None
    sends: int
    link: str = Field(description="The participant's personal link (to read out on the phone if a message went astray)")
    deliveries: list[DeliveryOut]


class SpecialistDossierOut(BaseModel):
    """A dossier as its specialist reads it through their link: without the participants' links."""

    id: str
    state: DossierState
    state_label: str
    patient: dict[str, Any]
    reason: str | None
    consent: dict[str, Any]
    accompaniment: dict[str, Any]
    specialist: dict[str, Any] | None
    slot: dict[str, Any] | None
    room: dict[str, Any] | None
    fiche: dict[str, Any]
    vitals: list[dict[str, Any]]
    documents: list[DocumentOut]
    created_at: str
    created_by: str | None
    updated_at: str


class DossierOut(SpecialistDossierOut):
    """A dossier as the staff see it: with its invitations."""

    invitations: list[InvitationOut]


class WizardDraft(Strict):
    draft: dict[str, Any] | None = Field(description="Whatever the kiosk's wizard needs to resume; null drops it")


class FicheIn(Strict):
    reason: str | None = Field(None, max_length=500, description="Motif (requesting side)")
    history: str | None = Field(None, max_length=20000, description="Antécédents (requesting side)")
    observations: str | None = Field(None, max_length=20000, description="Observations cliniques (requesting side)")
    expert_opinion: str | None = Field(None, max_length=20000, description="Avis de l'expert (the specialist, role doctor)")


class VitalIn(Strict):
    kind: Literal["spo2", "pulse", "blood_pressure", "temperature", "respiratory_rate", "weight", "glucose", "pain"]
    value: str = Field(min_length=1, max_length=16, description="As read: 96, 135/85, 37,8")
    measured_at: AwareDatetime | None = Field(None, description="Default: now")


class DocumentOut(BaseModel):
    id: str
    name: str
    kind: str
    kind_label: str
    mime: str
    size: int
    pages: int | None
    width: int | None
    height: int | None
    added_by: str
    added_at: str
    signed_by: str | None
    signed_at: str | None


class DocumentPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=200, pattern=_NAME)
    kind: Literal["ordonnance", "compte_rendu", "photo", "resultat", "courrier", "autre"] | None = None


class CodeSent(BaseModel):
    sent_to: str = Field(description="Where the code went, masked: +33 6 •• •• •• 12")


class CodeIn(Strict):
    code: str = Field(min_length=6, max_length=12, pattern=r"^\s*[0-9]{6}\s*$")


class LinkSessionOut(BaseModel):
    csrf_token: str = Field(description="Echo it in X-CSRF-Token on every change")
    expires_at: float = Field(description="Epoch seconds: end of the report window")
    name: str


class ExpertOpinionIn(Strict):
    expert_opinion: str = Field(max_length=20000)


class VisioIn(_Contact):
    mobile: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)

    @model_validator(mode="after")
    def _reachable(self) -> VisioIn:
        if not (self.email or self.mobile):
            raise ValueError("indiquez un téléphone portable ou une adresse e-mail")
        return self


class VisioOut(BaseModel):
    room: dict[str, Any]
    invitation_id: str


class ShareIn(_Contact):
    email: str | None = Field(None, max_length=254, description="Default: the patient's")
    mobile: str | None = Field(None, max_length=32, description="Default: the patient's (receives the code)")


class ShareOut(BaseModel):
    email: str = Field(description="Masked")
    mobile: str = Field(description="Masked")
    expires_at: str


class RecipientIn(_Contact):
    email: str = Field(max_length=254, description="Receives the download link")
    mobile: str = Field(max_length=32, description="Receives the one-time code")


class ConsultationEndIn(Strict):
    rating: int | None = Field(None, ge=1, le=5, description="Quality of the call, 1 to 5 stars")
    comment: str | None = Field(None, max_length=1000)
    amount_cents: int | None = Field(None, ge=0, le=100_000, description="Amount to charge the patient, in cents")
    send: list[str] = Field(default_factory=list, max_length=20, description="Ids of PDF documents to send to the patient")
    also_to: list[RecipientIn] = Field(default_factory=list, max_length=5,
                                       description="Further recipients of the same documents (a relative, the attending doctor)")


class ConsultationEndOut(BaseModel):
    sent: int
    state: DossierState


class TransitionIn(Strict):
    to: DossierState


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


# --- directory --------------------------------------------------------------------------------

class ProfessionalIn(SpecialistIn):
    pass


class ProfessionalPatch(_Contact):
    name: str | None = Field(None, min_length=1, max_length=100, pattern=_NAME)
    first_name: str | None = Field(None, max_length=60, pattern=_NAME)
    specialty: str | None = Field(None, min_length=1, max_length=80, pattern=_NAME)
    rpps: str | None = Field(None, pattern=r"^[0-9]{11}$")
    email: str | None = Field(None, max_length=254)
    mobile: str | None = Field(None, max_length=32)
    active: bool | None = None


class ProfessionalOut(BaseModel):
    id: int
    name: str
    first_name: str | None
    specialty: str
    rpps: str | None
    email: str | None
    mobile: str | None
    active: bool
    display_name: str


class DirectorySearch(Strict):
    q: str | None = Field(None, max_length=100)
    include_inactive: bool = Field(False, description="Also those withdrawn (the admins' list)")


class DirectoryList(BaseModel):
    items: list[ProfessionalOut]


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
