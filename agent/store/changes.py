"""What the regional server learns of each change to health data: one kind per domain object, one
payload model per kind. Domain functions build a payload and `outbox.record` it in the change's
own transaction; cloud_sync drains the outbox in order and reads back the same models.

A payload refuses unknown keys, so a new column reaches the server only when its model says so.
Who typed a change (the staff login) stays on the cart: the audit trail holds it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Kind(StrEnum):
    PATIENT = "patient"
    CONSENT = "consent"
    DOSSIER = "dossier"
    PARTICIPANT = "participant"
    INVITATION = "invitation"
    FICHE = "fiche"
    VITAL = "vital"
    DOCUMENT = "document"
    SIGNATURE = "signature"
    CONSULTATION_END = "consultation_end"
    PATIENT_SHARE = "patient_share"


class Operation(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    STATE = "state"  # a dossier moved through its states
    SIGN = "sign"  # a document stamped with a signature
    SEND = "send"  # an invitation sent again
    REVOKE = "revoke"


class Change(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: ClassVar[Kind]


class PatientChange(Change):
    kind = Kind.PATIENT
    id: str
    birth_name: str
    used_name: str | None
    first_names: str  # JSON list, as stored
    birth_date: str
    sex: str
    identity_status: str
    birth_insee: str | None
    birth_country: str | None
    ins: str | None
    email: str | None
    mobile: str | None
    civility: str | None
    address_line: str | None
    postal_code: str | None
    city: str | None
    created_at: str
    updated_at: str


class ConsentChange(Change):
    kind = Kind.CONSENT
    dossier_id: str
    patient_id: str
    given: bool
    comment: str | None
    collected_at: str


class DossierChange(Change):
    kind = Kind.DOSSIER
    id: str
    patient_id: str
    state: str
    reason: str | None
    specialist: str | None
    specialty: str | None
    slot_start: str | None  # none for a téléexpertise: it holds no time of the cart
    slot_minutes: int | None
    accompaniment: str
    created_at: str
    updated_at: str


class DossierStateChange(Change):
    kind = Kind.DOSSIER
    state: str
    reason: str | None = None  # why it was cancelled


class ParticipantChange(Change):
    kind = Kind.PARTICIPANT
    room_id: str
    dossier_id: str | None  # None in a Visio SMS room
    role: str
    remote: bool
    name: str | None
    first_name: str | None
    specialty: str | None
    rpps: str | None


class InvitationChange(Change):
    kind = Kind.INVITATION
    participant_id: int
    room_id: str
    dossier_id: str | None
    at: str


class FicheChange(Change):
    """Only the fields that changed."""

    kind = Kind.FICHE
    reason: str | None = None
    history: str | None = None
    observations: str | None = None
    expert_opinion: str | None = None


class VitalChange(Change):
    kind = Kind.VITAL
    dossier_id: str
    kind_of_vital: str
    value: str
    unit: str
    measured_at: str
    source: str  # saisie | capteur
    device: str | None = None  # the sensor that measured it
    loinc: str | None = None
    ucum: str | None = None


class DocumentChange(Change):
    kind = Kind.DOCUMENT
    id: str
    dossier_id: str
    blob: str  # the content's SHA-256: the server fetches the bytes once
    name: str
    kind_of_document: str
    mime: str
    size: int
    pages: int | None = None
    width: int | None = None
    height: int | None = None
    added_at: str | None = None
    signed_by: str | None = None
    signed_at: str | None = None


class DocumentPatchChange(Change):
    kind = Kind.DOCUMENT
    name: str | None = None
    kind_of_document: str | None = None


class SignatureChange(Change):
    """The expert's signature of the opinion: the dossier is closed."""

    kind = Kind.SIGNATURE
    dossier_id: str
    signed_by: str
    signed_at: str


class ConsultationEndChange(Change):
    kind = Kind.CONSULTATION_END
    dossier_id: str
    rating: int | None
    rating_comment: str | None
    amount_cents: int | None
    ended_at: str


class PatientShareChange(Change):
    """A document sent to the patient (or another recipient) by a coded link."""

    kind = Kind.PATIENT_SHARE
    dossier_id: str
    document_id: str
    to_email: bool
    to_mobile: bool
    expires_at: str
