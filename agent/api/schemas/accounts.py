"""The admin's page of staff accounts: what it reads and sends. Never a password or a secret out,
except the new one-time-code secret an admin just asked for, once."""

from __future__ import annotations

from pydantic import Field

from agent.api.schemas.common import ContactIn, Schema, Strict


class AccountOut(Schema):
    login: str
    display_name: str
    role: str
    role_label: str
    disabled: bool
    sessions: int = Field(description="Open sessions (logged in or locked)")
    created_at: str
    rpps: str | None = Field(None, description="RPPS of the CPS card linked to the account")
    email: str | None = None
    mobile: str | None = None
    second_factors: list[str] = Field(default_factory=list, description="What may follow the password: totp, sms, email")


class AccountList(Schema):
    items: list[AccountOut]


class AccountPatch(Strict):
    disabled: bool = Field(description="true: the person logs in nowhere and their sessions end at once")


class StaffContacts(ContactIn):
    email: str | None = Field(None, max_length=254, description="Where an email login code goes; null: none")
    mobile: str | None = Field(None, max_length=32, description="Where an SMS login code goes (a French mobile); null: none")


class CardLink(Strict):
    rpps: str | None = Field(pattern=r"^[0-9]{11}$", description="The 11-digit RPPS number printed on the CPS card; null: no card any more")


class PasswordIn(Strict):
    password: str = Field(min_length=1, max_length=200, description="The new password (10 characters at least); sessions end")


class SessionsEnded(Schema):
    ended: int


class OtpEnrolment(Schema):
    login: str
    secret: str = Field(description="RFC 6238 secret (base32), shown once")
    uri: str = Field(description="otpauth:// URI for the authenticator app")
    qr_svg: str = Field(description="The URI as a QR code, an SVG data URI for an <img>")
