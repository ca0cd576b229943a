"""Dossiers are not kept for ever on the cart (seeds 000 §2.5, 001 §4: the regional platform keeps
them): a closed or cancelled dossier is purged once the regional server confirmed every part of it
(no change of it still waiting, in conflict or refused) and `[sync] retention_days` have passed
since both its last change and that confirmation. Everything of it goes (its rows, its files, the
messages that named it, what the sync knew of it) but the resident, who stays for the next
teleconsultation, and the audit trail, which records the purge itself.

A cart never configured for a server never purges: nothing of it was ever confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from agent import audit
from agent.audit import Actor
from agent.store.outbox import DOSSIER_OF

HOUSEKEEPER = Actor("telecart", "system")


@dataclass(frozen=True)
class Purged:
    dossier_id: str
    blobs: list[str]  # files that may now be unused (files.remove_unused, once the purge committed)


def purgeable(db: Database, cutoff: str) -> list[str]:
    """Ended dossiers whose every change the server confirmed, with nothing newer than `cutoff`."""
    return [r[0] for r in db.execute(
        f"""WITH parts AS (SELECT {DOSSIER_OF} AS dossier_id, state, sent_at FROM outbox),
                 confirmed AS (SELECT dossier_id, sum(state = 'sent') AS sent,
                                      sum(state NOT IN ('sent', 'local') OR coalesce(sent_at, '') > :cutoff) AS unsettled
                               FROM parts GROUP BY dossier_id)
            SELECT d.id FROM dossiers d JOIN confirmed c ON c.dossier_id = d.id
            WHERE d.state IN ('closed', 'cancelled') AND c.sent > 0 AND c.unsettled = 0
              AND max(d.updated_at, coalesce(d.signed_at, ''), coalesce(d.ended_at, ''), coalesce(d.cancelled_at, '')) <= :cutoff
            ORDER BY d.updated_at""", {"cutoff": cutoff})]


def purge(db: Database, dossier_id: str, days: int) -> Purged:
    """Every row of the dossier but the audit trail's, in one transaction; the purge audited."""
    dossier = db["dossiers"].get(dossier_id)
    blobs = [b for row in db.execute("SELECT blob, original_blob FROM documents WHERE dossier_id = ?", [dossier_id]) for b in row if b]
    rooms = "SELECT id FROM rooms WHERE dossier_id = :d"
    invitations = f"SELECT id FROM invitations WHERE room_id IN ({rooms})"
    documents = "SELECT id FROM documents WHERE dossier_id = :d"
    shares = "SELECT id FROM patient_shares WHERE dossier_id = :d"
    entries = f"SELECT id FROM outbox WHERE {DOSSIER_OF} = :d"
    for statement in (
        f"DELETE FROM deliveries WHERE ref_id IN ({invitations}) OR ref_id IN ({shares}) OR ref_id IN ({documents})",
        f"DELETE FROM link_codes WHERE invitation_id IN ({invitations})",
        f"DELETE FROM link_sessions WHERE invitation_id IN ({invitations})",
        f"DELETE FROM invitations WHERE room_id IN ({rooms})",
        f"DELETE FROM participants WHERE room_id IN ({rooms})",
        "DELETE FROM rooms WHERE dossier_id = :d",
        "DELETE FROM patient_shares WHERE dossier_id = :d",
        "DELETE FROM region_items WHERE dossier_id = :d",
        f"DELETE FROM sync_uploads WHERE entry_id IN ({entries})",
        f"DELETE FROM outbox WHERE id IN ({entries})",
        "DELETE FROM documents WHERE dossier_id = :d",
        "DELETE FROM vitals WHERE dossier_id = :d",
        "DELETE FROM fiche_drafts WHERE dossier_id = :d",
        "DELETE FROM consents WHERE dossier_id = :d",
        # every version the sync kept of the dossier's resources (Encounter, Appointment, Composition):
        # their keys end with the dossier's id (cloud_sync/fhir_bundle.py version_key)
        "DELETE FROM sync_versions WHERE resource LIKE '%|' || :d",
        "DELETE FROM dossiers WHERE id = :d",
    ):
        db.execute(statement, {"d": dossier_id})
    audit.append(db, HOUSEKEEPER.event("dossier.purge", dossier["patient_id"], detail=(
        f"télédossier n° {dossier_id[:8]} supprimé du chariot : confirmé par le serveur régional, conservé {days} jour(s) de plus")))
    return Purged(dossier_id, blobs)
