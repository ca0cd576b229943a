"""The outbox: what the regional server must learn, recorded in the same transaction as the change.

cloud_sync drains it later; because the entry commits or rolls back with the change itself, the
server can never miss a committed change nor hear of one that was rolled back.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from agent.clock import utc_now_iso


def record_change(db: Database, entity: str, entity_id: str, operation: str, payload: dict[str, Any]) -> None:
    """Queue a change; call inside the transaction that makes it."""
    assert db.conn.in_transaction, "outbox entries must share the change's transaction"
    db["outbox"].insert(
        {
            "at": utc_now_iso(),
            "entity": entity,
            "entity_id": entity_id,
            "operation": operation,
            "payload": json.dumps(payload, ensure_ascii=False, sort_keys=True),
            "state": "pending",
        }
    )


def pending_count(db: Database) -> int:
    return db.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]
