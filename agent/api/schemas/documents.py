"""A dossier's documents and what is shared with the patient."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agent.api.schemas.common import NAME_PATTERN, ContactIn, Schema, Strict


class DocumentOut(Schema):
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
    from_region: bool = False  # written on the regional server and brought back to the cart


class DocumentPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=200, pattern=NAME_PATTERN)
    kind: Literal["ordonnance", "compte_rendu", "photo", "resultat", "courrier", "autre"] | None = None


class ShareIn(ContactIn):
    email: str | None = Field(None, max_length=254, description="Default: the patient's")
    mobile: str | None = Field(None, max_length=32, description="Default: the patient's (receives the code)")


class ShareOut(Schema):
    email: str = Field(description="Masked")
    mobile: str = Field(description="Masked")
    expires_at: str


class NewsQuery(Strict):
    since: str | None = Field(None, max_length=40, description="The `now` of the previous answer (ISO 8601)")


class NewsItemOut(Schema):
    dossier_id: str
    document_id: str
    kind_label: str
    added_by: str
    added_at: str
    resident: str = Field(description="The resident's name, as the kiosk shows it")


class NewsOut(Schema):
    now: str = Field(description="Ask again with since=now")
    items: list[NewsItemOut]
