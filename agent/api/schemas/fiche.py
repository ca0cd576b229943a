"""The fiche, its vitals and the end of the teleconsultation."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from agent.api.schemas.common import ContactIn, Schema, Strict
from agent.dossiers.dossier import DossierState


class FicheIn(Strict):
    reason: str | None = Field(None, max_length=500, description="Motif (requesting side)")
    history: str | None = Field(None, max_length=20000, description="Antécédents (requesting side)")
    observations: str | None = Field(None, max_length=20000, description="Observations cliniques (requesting side)")
    expert_opinion: str | None = Field(None, max_length=20000, description="Avis de l'expert (the specialist, role doctor)")


class FicheDraft(Strict):
    draft: FicheIn | None = Field(description="The fiche as typed, not yet saved; null: no draft")


class VitalIn(Strict):
    kind: Literal["spo2", "pulse", "blood_pressure", "temperature", "respiratory_rate", "weight", "glucose", "pain"]
    value: str = Field(min_length=1, max_length=16, description="As read: 96, 135/85, 37,8")
    measured_at: AwareDatetime | None = Field(None, description="Default: now")


class RecipientIn(ContactIn):
    email: str = Field(max_length=254, description="Receives the download link")
    mobile: str = Field(max_length=32, description="Receives the one-time code")


class ConsultationEndIn(Strict):
    rating: int | None = Field(None, ge=1, le=5, description="Quality of the call, 1 to 5 stars")
    comment: str | None = Field(None, max_length=1000)
    amount_cents: int | None = Field(None, ge=0, le=100_000, description="Amount to charge the patient, in cents")
    send: list[str] = Field(default_factory=list, max_length=20, description="Ids of PDF documents to send to the patient")
    also_to: list[RecipientIn] = Field(default_factory=list, max_length=5,
                                       description="Further recipients of the same documents (a relative, the attending doctor)")


class ConsultationEndOut(Schema):
    sent: int
    state: DossierState
