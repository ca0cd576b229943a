"""Documents of a dossier (seed 000 §2.3.3): prescriptions, reports, photos, results. The bytes
live in the blob store (content-addressed, written before the row); the row names, types and
traces them. A signature stamped on a PDF replaces its content and keeps the original's blob."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from agent import audit
from agent.audit import Actor
from agent.clock import utc_now_iso
from agent.dossiers.dossier import DossierRefused, open_dossier
from agent.dossiers.intake import Inspected
from agent.refusal import Refused
from agent.store import outbox
from agent.store.changes import DocumentChange, DocumentPatchChange, Operation

KINDS = {
    "ordonnance": "Ordonnance", "compte_rendu": "Compte rendu", "photo": "Photo", "resultat": "Résultat d'examen",
    "courrier": "Courrier", "autre": "Autre document",
}


def add(db: Database, dossier_id: str, blob: str, inspected: Inspected, size: int, name: str, kind: str, actor: Actor,
        signed_by: str | None = None) -> dict[str, Any]:
    """`signed_by`: a document made signed (a prescription written and signed on the specialist's page)."""
    dossier = open_dossier(db, dossier_id)
    row = insert(db, dossier_id, blob, inspected, size, name, kind, actor.login)
    if signed_by:
        row.update(signed_by=signed_by, signed_at=row["added_at"])
        db["documents"].update(row["id"], {"signed_by": signed_by, "signed_at": row["added_at"]})
    audit.append(db, actor.event("document.add", dossier["patient_id"], detail=f"{KINDS[kind]} « {name} »"
                                 + (f", signé par {signed_by}" if signed_by else "")))
    outbox.record(db, row["id"], Operation.CREATE, _change(row))
    return out(row)


def insert(db: Database, dossier_id: str, blob: str, inspected: Inspected, size: int, name: str, kind: str, added_by: str,
           region_ref: str | None = None) -> dict[str, Any]:
    """The document's row alone: the caller checks the dossier, audits and queues (or not: what the
    regional server sent, `region_ref`, never goes back to it)."""
    row = {
        "id": str(uuid.uuid4()), "dossier_id": dossier_id, "blob": blob, "name": name, "kind": kind, "mime": inspected.mime,
        "size": size, "pages": inspected.pages, "width": inspected.width, "height": inspected.height,
        "added_by": added_by, "added_at": utc_now_iso(), "region_ref": region_ref,
    }
    db["documents"].insert(row)
    return row


def _change(row: dict[str, Any]) -> DocumentChange:
    return DocumentChange(kind_of_document=row["kind"], **{k: row.get(k) for k in DocumentChange.model_fields if k != "kind_of_document"})


_SHOWN = ("id", "name", "kind", "mime", "size", "pages", "width", "height", "added_by", "added_at", "signed_by", "signed_at")


def out(row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: row.get(k) for k in _SHOWN}, "kind_label": KINDS[row["kind"]], "from_region": bool(row.get("region_ref"))}


def _row(db: Database, dossier_id: str, document_id: str) -> dict[str, Any]:
    rows = list(db.query("SELECT d.*, x.patient_id FROM documents d JOIN dossiers x ON x.id = d.dossier_id "
                         "WHERE d.id = ? AND d.dossier_id = ?", [document_id, dossier_id]))
    if not rows:
        raise DossierRefused("not_found")
    return rows[0]


@dataclass(frozen=True)
class Pdf:
    """One of a dossier's PDFs and the resident it is about: what printing it, sending it to the
    resident and sending it by MSSanté need."""

    id: str
    dossier_id: str
    patient_id: str
    name: str
    kind: str
    blob: str
    size: int
    added_at: str


def pdf_of(db: Database, dossier_id: str, document_id: str, not_pdf: Callable[[str], Refused]) -> Pdf:
    """The dossier's document `document_id`, if it is a PDF. Refused: DossierRefused("not_found")
    when the dossier has no such document; `not_pdf(its name)` when it is not a PDF (each use says
    why in its own words: it cannot be printed, sent to the resident, sent by MSSanté)."""
    row = _row(db, dossier_id, document_id)
    if row["mime"] != "application/pdf":
        raise not_pdf(row["name"])
    return Pdf(id=document_id, dossier_id=dossier_id, patient_id=row["patient_id"], name=row["name"], kind=row["kind"], blob=row["blob"],
               size=row["size"], added_at=row["added_at"])


def list_for(db: Database, dossier_id: str) -> list[dict[str, Any]]:
    return [out(r) for r in db.query("SELECT * FROM documents WHERE dossier_id = ? ORDER BY added_at", [dossier_id])]


def opened(db: Database, dossier_id: str, document_id: str, actor: Actor) -> dict[str, Any]:
    """The row of a document about to be downloaded; the download is audited."""
    row = _row(db, dossier_id, document_id)
    audit.append(db, actor.event("document.read", row["patient_id"], detail=f"« {row['name']} »"))
    return row


def describe(db: Database, dossier_id: str, document_id: str, changes: dict[str, str], actor: Actor) -> dict[str, Any]:
    """Rename it or give it a type."""
    open_dossier(db, dossier_id)
    row = _row(db, dossier_id, document_id)
    db["documents"].update(document_id, changes)
    outbox.record(db, document_id, Operation.UPDATE, DocumentPatchChange(
        **{("kind_of_document" if k == "kind" else k): v for k, v in changes.items()}))
    audit.append(db, actor.event("document.update", row["patient_id"], detail=f"« {row['name']} » : {', '.join(sorted(changes))}"))
    return out(_row(db, dossier_id, document_id))


def mark_signed(db: Database, dossier_id: str, document_id: str, new_blob: str, size: int, signer: str, actor: Actor) -> dict[str, Any]:
    open_dossier(db, dossier_id)
    row = _row(db, dossier_id, document_id)
    db["documents"].update(document_id, {"blob": new_blob, "size": size, "original_blob": row["original_blob"] or row["blob"],
                                         "signed_by": signer, "signed_at": utc_now_iso()})
    audit.append(db, actor.event("document.sign", row["patient_id"], detail=f"« {row['name']} » signé par {signer}"))
    outbox.record(db, document_id, Operation.SIGN, _change(_row(db, dossier_id, document_id)))
    return out(_row(db, dossier_id, document_id))


def save_signature(db: Database, login: str, blob: str, actor: Actor) -> None:
    db["staff_signatures"].upsert({"login": login, "blob": blob, "uploaded_at": utc_now_iso()}, pk="login")
    audit.append(db, actor.event("signature.upload"))


def signature_of(db: Database, login: str) -> str | None:
    row = db.execute("SELECT blob FROM staff_signatures WHERE login = ?", [login]).fetchone()
    return row[0] if row else None
