"""A specialist's link session locks after idle time like a staff session: when it was last used."""

from sqlite_utils import Database


def up(db: Database) -> None:
    db["link_sessions"].add_column("last_active", float)
    db.execute("UPDATE link_sessions SET last_active = created_at")
