"""The card reader as the kiosk's login and lock screens see it, and the card login."""

from __future__ import annotations

from pydantic import Field

from agent.api.schemas.common import Schema, Strict


class CardHolderOut(Schema):
    display_name: str
    title: str | None
    rpps: str | None


class CardOut(Schema):
    state: str = Field(description="off | no_service | no_reader | empty | reading | cps | other | mute | two_cards | unreadable")
    message: str = Field(description="What the screen says, in French")
    reader: str | None
    readers: int
    holder: CardHolderOut | None = Field(description="Whose CPS card is in the reader (from its certificate), once read")
    version: int
    tries_left: int | None = Field(None, description="PIN tries before the card blocks (a CPS card in the reader only)")


class CardLogin(Strict):
    pin: str = Field(pattern=r"^[0-9]{4,8}$", description="The card's PIN (code porteur)")
    confirm_last_try: bool = Field(False, strict=True, description="The person chose to spend the card's last PIN try (true or false, not 0 or 1)")
