"""What may be printed: only PDFs the cart holds, named by the dossier they belong to (a
document of the dossier that is a PDF, or the dossier's report); never a path or a file from the
client. Store functions (run on the store thread) and the print's audit records."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from agent import audit
from agent.dossiers.documents import KINDS, pdf_of
from agent.links.invitation import Settings
from agent.refusal import Refused
from agent.report.export import report_data
from agent.report.pdf import render


@dataclass(frozen=True)
class Printable:
    dossier_id: str
    patient_id: str
    what: str  # as the audit trail and the kiosk name it: « Ordonnance « x.pdf » », « Compte rendu »
    title: str  # the job's name on the print server: no resident's name (CUPS lists it, cups-pdf names files after it)
    document_id: str | None = None
    blob: str | None = None  # a document's bytes, read off the store thread
    pdf: bytes | None = None  # the report, made here


def document(db: Database, dossier_id: str, document_id: str) -> Printable:
    pdf = pdf_of(db, dossier_id, document_id, lambda name: Refused("not_printable", name=name))
    kind = KINDS.get(pdf.kind, "Document")
    return Printable(dossier_id, pdf.patient_id, f"{kind} « {pdf.name} »", f"Telecart {kind.lower()} {dossier_id[:8]}",
                     document_id=document_id, blob=pdf.blob)


def report(db: Database, dossier_id: str, settings: Settings) -> Printable:
    data = report_data(db, dossier_id, settings)
    if data is None:
        raise Refused("not_found")
    patient_id = db["dossiers"].get(dossier_id)["patient_id"]
    return Printable(dossier_id, patient_id, "Compte rendu", f"Telecart compte rendu {dossier_id[:8]}", pdf=render(data))


def record(db: Database, event: audit.AuditEvent) -> None:
    audit.append(db, event)
