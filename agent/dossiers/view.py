"""A dossier as it is read whole: its record, its fiche's vitals and its documents, read (and
audited) at once, in one store call."""

from __future__ import annotations

from sqlite_utils import Database

from agent.audit import Actor
from agent.dossiers import documents, dossier, fiche, from_region
from agent.links.invitation import Settings


def read_whole(db: Database, dossier_id: str, actor: Actor, settings: Settings) -> dossier.Dossier | None:
    """A dossier with its fiche's vitals and its documents, read (and audited) at once."""
    found = dossier.read(db, dossier_id, actor, settings)
    if found is not None:
        found.vitals = fiche.vitals_of(db, dossier_id)
        found.documents = documents.list_for(db, dossier_id)
        found.from_region = from_region.items_of(db, dossier_id)
        found.version = dossier.version_of(db, dossier_id) or ""
    return found
