"""Sending a dossier's PDFs by MSSanté (secure health messaging)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agent.api.schemas.common import Schema, Strict


class MssanteSendIn(Strict):
    recipient: str | None = Field(None, max_length=254, description="An MSSanté address typed by the nurse (checked as an email in the MSSanté domains)")
    directory_id: int | None = Field(None, description="Or a professional of the directory who has an MSSanté address (ignored when `recipient` is given)")
    documents: list[str] = Field(default_factory=list, max_length=20, description="Ids of the dossier's PDF documents to send")
    report: bool = Field(False, description="Also the dossier's report (compte rendu), made as it stands now")
    note: str = Field("", max_length=2000, description="A few words for the recipient, at the top of the message")


class MssanteSendOut(Schema):
    id: str
    recipient: str


class MssanteDocumentOut(Schema):
    id: str = Field(description="A document's id, or `report`")
    name: str


class MssanteMessageOut(Schema):
    id: str
    recipient: str
    recipient_name: str | None
    documents: list[MssanteDocumentOut]
    created_by: str
    created_at: str
    state: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None = Field(description="French, why the last attempt failed")
    sent_at: str | None


class MssanteRecipientOut(Schema):
    directory_id: int
    display_name: str
    specialty: str
    address: str


class MssanteStateOut(Schema):
    configured: bool
    notice: str | None = Field(description="French, why nothing can be sent (the `[mssante]` section incomplete)")
    sender: str | None = Field(description="The cart's MSSanté address")
    recipients: list[MssanteRecipientOut] = Field(description="The directory's professionals who have an MSSanté address")
    documents: list[MssanteDocumentOut] = Field(description="The dossier's PDF documents, which may be sent")
    messages: list[MssanteMessageOut] = Field(description="This dossier's sendings, newest first")


class DirectoryMssanteIn(Strict):
    address: str | None = Field(None, max_length=254, description="The professional's MSSanté address; null or empty clears it")
