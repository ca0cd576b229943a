"""The specialist's coded access through their invitation link."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agent.api.schemas.common import Schema, Strict


class CodeRequest(Strict):
    channel: Literal["sms", "email"] | None = Field(None, description="Default: SMS when there is a mobile number")


class CodeSent(Schema):
    sent_to: str = Field(description="Where the code went, masked: +33 6 •• •• •• 12")
    channel: Literal["sms", "email"]
    other_channel: Literal["sms", "email"] | None = Field(description="The other way the code can come, if the link's person has one")


class CodeStatus(Schema):
    state: Literal["pending", "sent", "failed"] = Field(description="pending: queued or retrying, not yet left")
    channel: Literal["sms", "email"]
    sent_to: str
    last_error: str | None


class CodeIn(Strict):
    code: str = Field(min_length=6, max_length=12, pattern=r"^\s*[0-9]{6}\s*$")


class LinkSessionOut(Schema):
    csrf_token: str = Field(description="Echo it in X-CSRF-Token on every change")
    expires_at: float = Field(description="Epoch seconds: end of the report window")
    name: str
    idle_seconds: float = Field(description="Unused this long, the session ends and the page asks a new code")


class ExpertOpinionIn(Strict):
    expert_opinion: str = Field(max_length=20000)


class DossierVersionOut(Schema):
    version: str = Field(description="Changes whenever the dossier shows something else: read it again then")
