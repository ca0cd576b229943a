"""A téléexpertise asked by the nurse (issue 15; seed 002): an expert's opinion in writing, no call."""

from __future__ import annotations

from typing import Annotated

from pydantic import Discriminator, Field, Tag

from agent.api.schemas.common import Strict
from agent.api.schemas.dossiers import ConsentIn, DirectoryChoice, SpecialistIn


class ExpertiseCreate(Strict):
    patient_id: str = Field(min_length=1, max_length=64)
    consent: ConsentIn
    specialist: Annotated[
        Annotated[SpecialistIn, Tag("manual")] | Annotated[DirectoryChoice, Tag("directory")],
        Discriminator(lambda v: "directory" if isinstance(v, dict) and "directory_id" in v else "manual"),
    ] = Field(description="The expert, entered by hand or {\"directory_id\"} from the local directory")
    reason: str = Field(min_length=1, max_length=500, description="Motif: « Plaie du talon gauche »")
    question: str = Field(min_length=1, max_length=2000, description="What the nurse asks the expert")
    deadline_hours: int = Field(48, ge=4, le=24 * 14, description="The answer is awaited within this many hours")
