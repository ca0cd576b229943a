"""The outbox: what the regional server must learn, recorded in the same transaction as the change.

cloud_sync drains it later; because the entry commits or rolls back with the change itself, the
server can never miss a committed change nor hear of one that was rolled back. Entries are typed:
one kind per domain object, one payload model per kind (agent/store/changes.py).
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from agent.clock import utc_now_iso
from agent.store.changes import Change, Operation


def record(db: Database, entity_id: str, operation: Operation, change: Change) -> None:
    """Queue a change; call inside the transaction that makes it."""
    assert db.conn.in_transaction, "outbox entries must share the change's transaction"
    db["outbox"].insert(
        {
            "at": utc_now_iso(),
            "entity": change.kind.value,
            "entity_id": entity_id,
            "operation": operation.value,
            "payload": json.dumps(change.model_dump(mode="json", exclude_unset=True), ensure_ascii=False, sort_keys=True),
            "state": "pending",
        }
    )


def pending_count(db: Database) -> int:
    return db.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]


# The dossier an entry belongs to: the dossier itself (its states, its fiche, its end), the one its
# payload names, or for a document's later changes (a new name) the document's own dossier.
DOSSIER_OF = ("CASE WHEN entity IN ('dossier', 'fiche', 'consultation_end') THEN entity_id "
              "ELSE coalesce(json_extract(payload, '$.dossier_id'), "
              "(SELECT dossier_id FROM documents WHERE documents.id = outbox.entity_id AND outbox.entity = 'document')) END")
