"""The practice mode as the kiosk sees it (agent/practice/)."""

from __future__ import annotations

from pydantic import Field

from agent.api.schemas.common import Schema, Strict


class PracticeOut(Schema):
    inside: bool = Field(description="This agent is the practice one: every screen says « ENTRAÎNEMENT »")
    offered: bool = Field(description="The kiosk may offer the practice mode ([practice] enabled, and not already inside it)")
    active: bool = Field(description="A practice is under way on this cart")
    idle_seconds: float | None = Field(None, description="Inside: the kiosk leaves the practice after this long without a touch")
    back_to: str | None = Field(None, description="Inside: the real kiosk's address, where leaving (or the practice ending) takes the kiosk")


class RealCallersOut(Schema):
    names: list[str] = Field(description="Who waits for the cart in a real room now (the nurse leaves the practice to answer)")


class PracticeEntryOut(Schema):
    url: str = Field(description="Where the kiosk goes: the practice kiosk, entered once with the code it carries (a minute)")


class PracticeLeftOut(Schema):
    back_to: str = Field(description="The real kiosk, where the screen goes back")


class EntryIn(Strict):
    code: str = Field(min_length=1, max_length=64, description="The one-time code of the practice kiosk's address")
