"""The local store: SQLite (WAL, versioned migrations) and a content-addressed blob store."""

from agent.store.database import StorageFull, Store, transaction

__all__ = ["Store", "StorageFull", "transaction"]
