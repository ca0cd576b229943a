"""Printing a dossier's PDFs at the cart, and the printers a technician chooses from."""

from __future__ import annotations

from pydantic import Field

from agent.api.schemas.common import Schema, Strict


class PrintIn(Strict):
    copies: int = Field(1, ge=1, le=5, description="Copies to print (the pharmacy's and the resident's file: 2)")


class PrintJobOut(Schema):
    id: str = Field(description="The cart's number of this print (poll GET /dossiers/{id}/print-jobs/{job})")
    dossier_id: str
    document_id: str | None = Field(description="The document printed; null for the report")
    what: str = Field(description="What is printed, in French (« Ordonnance « x.pdf » », « Compte rendu »)")
    printer: str = Field(description="The CUPS queue it went to")
    cups_job: int = Field(description="The job's number on the CUPS server (`lpstat -W all`), for the support")
    copies: int
    state: str = Field(description="sent, printing, printed, offline, no_paper, paper_jam, no_toner, door_open, stopped, held, "
                                   "cancelled, failed, lost")
    label: str = Field(description="The state in French: « envoyé à l'imprimante », « imprimé », « plus de papier »…")
    message: str = Field(description="What it means and what to do, in French")
    detail: str | None = Field(description="The printer's own message, if any (often in English)")
    done: bool = Field(description="Nothing more will happen: stop polling")
    trouble: bool = Field(description="Someone must act at the printer (paper, power, jam…)")
    unreachable: bool = Field(description="CUPS did not answer the last look: the state is the last one known")
    created_at: str
    updated_at: str


class PrinterOut(Schema):
    name: str = Field(description="The CUPS queue's name, what `[printing] printer` takes")
    info: str = Field(description="Its description on the CUPS server")
    location: str
    model: str
    state: str = Field(description="ready, printing, or a trouble: offline, no_paper, paper_jam, no_toner, door_open, stopped")
    label: str = Field(description="The state in French")
    message: str | None = Field(description="The printer's own message")
    accepting: bool = Field(description="False: CUPS refuses new jobs on this queue")
    is_default: bool = Field(description="The CUPS server's default destination")
    is_chosen: bool = Field(description="Where the cart's prints go now")


class PrintersOut(Schema):
    server: str = Field(description="`[printing] server`; empty: the system's CUPS")
    chosen: str = Field(description="`[printing] printer`; empty: the server's default destination")
    default: str | None = Field(description="The server's default destination, if it has one")
    printers: list[PrinterOut]
