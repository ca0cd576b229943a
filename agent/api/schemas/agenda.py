"""The cart's agenda: a day or a week of its teleconsultations, in the cart's time zone."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator

from agent.api.schemas.common import Schema, Strict


def _calendar_day(value: object) -> object:
    # the cart's own years only: a week before 0001-01-01 or after 9999 cannot be computed
    if isinstance(value, str) and not re.fullmatch(r"(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("une date AAAA-MM-JJ, entre 1900 et 2199")
    return value


class AgendaQuery(Strict):
    # YYYY-MM-DD only: lax parsing would read "0" or a timestamp as a day of 1970
    first_day: Annotated[dt.date, BeforeValidator(_calendar_day)] | None = Field(
        None, alias="from", description="First day shown (YYYY-MM-DD, the cart's calendar); today when absent")
    days: int = Field(1, description="1: a day; 7: a week from `from`")

    @field_validator("days")
    @classmethod
    def _day_or_week(cls, value: int) -> int:
        if value not in (1, 7):
            raise ValueError("1 (un jour) ou 7 (une semaine)")
        return value


class DeliveryStateOut(Schema):
    channel: Literal["email", "sms"]
    state: Literal["pending", "sent", "failed"]
    last_error: str | None


class InviteeOut(Schema):
    participant_id: int = Field(description="Their member id in a live room is p<participant_id> (the pulse's presence)")
    name: str = Field(description="As the room shows them: « Dr Claire PETIT », « Paul LEFEBVRE », or their role")
    role: str
    role_label: str
    revoked: bool = Field(description="Their link was revoked (and not renewed)")
    delivery: Literal["sent", "pending", "failed", "none"] = Field(
        description="sent: a message left; pending: still trying; failed: every try failed; none: nothing to send (at the cart)")
    channels: list[DeliveryStateOut]
    opened_link: bool = Field(description="They opened their link (the audit trail's invitation.open, or the doctor's sign-in)")
    read_dossier: bool = Field(description="The doctor signed in to the dossier's page with the code")
    entered_room: bool = Field(description="They entered the consultation's room at least once")


class AgendaItemOut(Schema):
    id: str
    resident: str = Field(description="« DUPONT Marcel », as the kiosk shows residents")
    state: str
    state_label: str
    reason: str | None
    specialist: str | None
    specialty: str | None
    start: str = Field(description="ISO 8601 with the cart zone's offset")
    end: str
    day: str = Field(description="The day it belongs to (the one it starts on), YYYY-MM-DD in the cart's zone")
    start_minute: int = Field(description="Minutes from that day's midnight, cart's clock")
    minutes: int
    room_opens_at: str | None
    room_closes_at: str | None
    room_opens_minute: int | None = Field(description="The room's opening, minutes from `day`'s midnight (negative: the day before)")
    room_closes_minute: int | None
    overlaps: list[str] = Field(description="The consultations shown whose slot shares a moment with this one's")
    invitees: list[InviteeOut]


class AgendaOut(Schema):
    first_day: str = Field(description="YYYY-MM-DD")
    days: int
    day_list: list[str] = Field(description="Each day shown, YYYY-MM-DD")
    zone: str
    today: str = Field(description="Today in the cart's zone, YYYY-MM-DD")
    now: str = Field(description="ISO 8601 with the cart zone's offset")
    now_minute: int = Field(description="Minutes from today's midnight, cart's clock")
    items: list[AgendaItemOut]
