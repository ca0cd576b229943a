"""What the kiosk says of the sync with the regional server."""

from __future__ import annotations

from pydantic import Field

from agent.api.schemas.common import Schema


class SyncOut(Schema):
    configured: bool = Field(description="A regional server is set ([sync] fhir_base_url)")
    waiting_dossiers: int = Field(description="Dossiers with something not yet on the regional server")
    waiting_since: str | None = Field(description="When the oldest of it was recorded (ISO 8601)")
    pending: int = Field(description="Changes waiting to be sent")
    problems: int = Field(description="Changes set aside for a person: conflicts and refusals")
    error: str | None = Field(description="Why the last try failed, in French")
    next_try_at: str | None


class DossierSyncOut(Schema):
    waiting: int = Field(description="This dossier's changes not yet on the regional server")
