"""Logging in, unlocking, the idle lock and the session's user."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agent.access.roles import Role
from agent.api.schemas.common import Schema, Strict


class LoginRequest(Strict):
    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    otp: str = Field(min_length=1, max_length=16, description="The 6-digit one-time code (RFC 6238)")


class LoginCodeRequest(Strict):
    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    channel: Literal["sms", "email"] = Field(description="Where the code goes: the account's own mobile or email")


class LoginCodeSent(Schema):
    channel: str
    sent_to: str = Field(description="The address, masked (« +33 6 •• •• •• 12 »)")


class UnlockRequest(Strict):
    password: str = Field(min_length=1, max_length=256)
    otp: str = Field(min_length=1, max_length=16)


class LockQuery(Strict):
    reason: Literal["manual", "idle"] = Field("manual", description="idle: the kiosk locked itself after its idle time")


class UserOut(Schema):
    login: str
    display_name: str
    role: Role
    role_label: str
    permissions: list[str]


class SessionOut(Schema):
    user: UserOut
    method: str
    csrf_token: str = Field(description="Echo it in the X-CSRF-Token header of every POST, PATCH, PUT and DELETE")
    locked: bool
    idle_lock_seconds: float
    expires_at: float = Field(description="Epoch seconds")
    patient_payment: bool = Field(False, description="The end form asks the amount charged to the patient ([dossiers] patient_payment)")
