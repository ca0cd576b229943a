"""The local store: SQLite (WAL, versioned migrations) and a content-addressed blob store."""

from agent.store.database import Store, StorageFull, transaction

__all__ = ["Store", "StorageFull", "transaction"]
