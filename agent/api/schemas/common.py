"""Shared pieces: the strict base of request bodies, error bodies, health."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.identity import contacts


class Schema(BaseModel):
    """The base of every API body. Built at its first use, not at start-up: most of them serve
    screens a given cart seldom shows (the technician's, the practice mode, MSSanté) and their
    validators are a fifth of the agent's idle memory."""

    model_config = ConfigDict(defer_build=True)


class Strict(Schema):
    """A request body: an unknown field is refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class FieldError(Schema):
    field: str
    message: str


class DuplicateOut(Schema):
    id: str
    display_name: str
    birth_date: str
    sex: str
    identity_status: str


class OverlapOut(Schema):
    dossier_id: str
    resident: str
    specialist: str | None
    start: str
    end: str


class ErrorBody(Schema):
    error: str = Field(description="Stable machine-readable code, e.g. bad_credentials")
    message: str = Field(description="Explanation in French, for the user")
    fields: list[FieldError] | None = None
    duplicates: list[DuplicateOut] | None = Field(None, description="likely_duplicate: the identities that may be this person")
    overlaps: list[OverlapOut] | None = Field(None, description="slot_overlap: the consultations that already hold the cart then")


class Health(Schema):
    status: Literal["ok"]
    version: str
    uptime_seconds: float
    simulate: bool


NAME_PATTERN = r"^[^\x00-\x1f<>]+$"


class ContactIn(Strict):
    """Someone who may be invited: an email and/or a mobile number, checked like a patient's."""

    _email = field_validator("email", check_fields=False)(contacts.optional_email)
    _mobile = field_validator("mobile", check_fields=False)(contacts.optional_mobile)
