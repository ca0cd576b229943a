"""The specialist's coded access through their invitation link."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent.api.schemas.common import Strict


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
