"""The specialist's own documents: a prescription written on their page, their signature image."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agent.api.schemas.common import Schema, Strict
from agent.api.schemas.dossiers import InviteeIn


class MedicineIn(Strict):
    name: str = Field(min_length=1, max_length=200, description="The medicine, its form and strength: « Amoxicilline 500 mg, gélule »")
    dosage: str = Field("", max_length=300, description="Posologie: « 1 gélule matin, midi et soir »")
    duration: str = Field("", max_length=100, description="« 7 jours »")


class PrescriptionIn(Strict):
    medicines: list[MedicineIn] = Field(default_factory=list, max_length=30)
    notes: str = Field("", max_length=4000, description="Free text below the medicines (advice, a follow-up, a non-drug prescription)")


class SignatureImageOut(Schema):
    present: bool = Field(description="The specialist has a signature image on this cart (kept for their next links)")


class ColleagueIn(InviteeIn):
    """A colleague the specialist invites (seed 001 §3.2)."""

    access: Literal["dossier", "call"] = Field(description="`dossier`: reads the dossier, joins the call, may give an opinion; `call`: the call only")
    specialty: str | None = Field(None, max_length=80)
    rpps: str | None = Field(None, pattern=r"^[0-9]{11}$")


class ColleagueOut(Schema):
    name: str
    access: str
    sent_to: str = Field(description="Masked")
