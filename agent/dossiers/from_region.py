"""What the regional server wrote for a dossier, brought back to the cart (cloud_sync/pull.py):
the expert's opinion as a note, the signed report and other documents among the dossier's own,
marked as received. Each is audited as written by the regional server, taken once per version,
and never sent back. A signed or closed dossier still receives them: the report often comes after.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from agent import audit
from agent.audit import Actor
from agent.clock import utc_now_iso
from agent.dossiers import documents
from agent.dossiers.intake.content import Inspected

REGION = Actor("serveur régional", "system")
NOTE, DOCUMENT, REFUSED = "note", "document", "refused"


@dataclass(frozen=True)
class RegionItem:
    region_ref: str  # DocumentReference/<id> on the server
    version: str
    dossier_id: str
    title: str
    author: str | None
    written_at: str | None


def dossiers_on_server(db: Database, dossier_system: str) -> list[tuple[str, str, bool]]:
    """(dossier id, where the server keeps its Encounter, whether it may still receive something:
    not cancelled) for each dossier the cart keeps and the server confirmed (a purged dossier is
    gone from the cart)."""
    return [(r[0], r[1], r[2] != "cancelled") for r in db.execute(
        "SELECT d.id, v.location, d.state FROM dossiers d JOIN sync_versions v ON v.resource = 'Encounter|' || ? || '|' || d.id "
        "ORDER BY d.created_at", [dossier_system])]


def seen(db: Database, dossier_id: str) -> dict[str, str]:
    """The version of each item already taken for this dossier."""
    return {r[0]: r[1] for r in db.execute("SELECT region_ref, version FROM region_items WHERE dossier_id = ?", [dossier_id])}


def patient_of(db: Database, dossier_id: str) -> str:
    return db.execute("SELECT patient_id FROM dossiers WHERE id = ?", [dossier_id]).fetchone()[0]


def _keep(db: Database, item: RegionItem, kind: str, text: str | None = None, document_id: str | None = None) -> None:
    db["region_items"].upsert({"region_ref": item.region_ref, "version": item.version, "dossier_id": item.dossier_id, "kind": kind,
                               "title": item.title, "author": item.author, "text": text, "written_at": item.written_at,
                               "received_at": utc_now_iso(), "document_id": document_id}, pk="region_ref")


def receive_note(db: Database, item: RegionItem, text: str) -> None:
    _keep(db, item, NOTE, text=text)
    audit.append(db, REGION.event("region.note", patient_of(db, item.dossier_id), detail=f"« {item.title} » reçu pour le télédossier n° {item.dossier_id[:8]}"))


def receive_document(db: Database, item: RegionItem, blob: str, inspected: Inspected, size: int, name: str, kind: str) -> dict[str, Any]:
    """A new version of an item already taken comes as a new document; the first one stays."""
    row = documents.insert(db, item.dossier_id, blob, inspected, size, name, kind, REGION.login, region_ref=item.region_ref)
    _keep(db, item, DOCUMENT, document_id=row["id"])
    audit.append(db, REGION.event("region.document", patient_of(db, item.dossier_id),
                                  detail=f"{documents.KINDS[kind]} « {name} » reçu pour le télédossier n° {item.dossier_id[:8]}"))
    return row


def refuse(db: Database, item: RegionItem, reason: str) -> None:
    """Content the cart does not take (not a PDF, JPEG, PNG or text; too large; a PDF with scripts):
    said in the dossier, so a person asks the region for it another way."""
    _keep(db, item, REFUSED, text=reason)
    audit.append(db, REGION.event("region.document", patient_of(db, item.dossier_id), outcome=audit.FAILURE,
                                  detail=f"« {item.title} » refusé : {reason}"))


def items_of(db: Database, dossier_id: str) -> list[dict[str, Any]]:
    """What the dossier received, newest first, for the kiosk."""
    return list(db.query("SELECT kind, title, author, text, written_at, received_at, document_id FROM region_items "
                         "WHERE dossier_id = ? ORDER BY coalesce(written_at, received_at) DESC", [dossier_id]))
