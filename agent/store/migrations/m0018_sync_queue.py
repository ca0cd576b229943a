"""The outbox as the sync's queue: when an entry may next be tried, its last error, when the server
confirmed it; the cart's own id, which scopes the identifiers it sends (cloud_sync/identifiers.py)."""

import uuid

from sqlite_utils import Database


def up(db: Database) -> None:
    outbox = db["outbox"]
    for column, kind in (("next_try_at", str), ("last_error", str), ("sent_at", str)):
        outbox.add_column(column, kind)
    db["meta"].insert({"key": "cart_id", "value": str(uuid.uuid4())}, ignore=True)
