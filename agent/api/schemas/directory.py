"""The directory of professionals the cart invites."""

from __future__ import annotations

from pydantic import Field

from agent.api.schemas.common import NAME_PATTERN, ContactIn, Schema, Strict
from agent.api.schemas.dossiers import SpecialistIn


class ProfessionalIn(SpecialistIn):
    pass


class ProfessionalPatch(ContactIn):
    name: str | None = Field(None, min_length=1, max_length=100, pattern=NAME_PATTERN)
    first_name: str | None = Field(None, max_length=60, pattern=NAME_PATTERN)
    specialty: str | None = Field(None, min_length=1, max_length=80, pattern=NAME_PATTERN)
    rpps: str | None = Field(None, pattern=r"^[0-9]{11}$")
    email: str | None = Field(None, max_length=254)
    mobile: str | None = Field(None, max_length=32)
    active: bool | None = None


class ProfessionalOut(Schema):
    id: int
    name: str
    first_name: str | None
    specialty: str
    rpps: str | None
    email: str | None
    mobile: str | None
    active: bool
    display_name: str
    mssante: str | None = Field(None, description="Their MSSanté address, set with PUT /directory/{id}/mssante")


class DirectorySearch(Strict):
    q: str | None = Field(None, max_length=100)
    include_inactive: bool = Field(False, description="Also those withdrawn (the admins' list)")


class DirectoryList(Schema):
    items: list[ProfessionalOut]
