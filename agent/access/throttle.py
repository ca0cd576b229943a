"""Failed-login lockout, kept per login name whether or not an account has that name: an unknown
login locks exactly like a real one, so repeated guessing does not reveal which accounts exist."""

from __future__ import annotations

from sqlite_utils import Database

# A failure streak is forgotten this long after its last failure (housekeeping purges it).
FORGET_AFTER = 24 * 3600.0


def locked_for(db: Database, login: str, now: float) -> float | None:
    """Seconds until `login` may try again, or None when it is not locked."""
    row = db.execute("SELECT locked_until FROM login_failures WHERE login = ?", [login]).fetchone()
    if row and row[0] and row[0] > now:
        return row[0] - now
    return None


def register_failure(db: Database, login: str, now: float, max_failed: int, lockout_seconds: float) -> bool:
    """Count a failed attempt; returns True when this failure locks the login."""
    row = db.execute("SELECT failed FROM login_failures WHERE login = ?", [login]).fetchone()
    failed = (row[0] if row else 0) + 1
    locks = failed >= max_failed
    db["login_failures"].upsert(
        {"login": login, "failed": 0 if locks else failed, "locked_until": now + lockout_seconds if locks else None, "last_failure": now},
        pk="login",
    )
    return locks


def clear(db: Database, login: str) -> None:
    db.execute("DELETE FROM login_failures WHERE login = ?", [login])


def purge_stale(db: Database, now: float) -> int:
    cursor = db.execute(
        "DELETE FROM login_failures WHERE last_failure < ? AND (locked_until IS NULL OR locked_until < ?)",
        [now - FORGET_AFTER, now],
    )
    return cursor.rowcount
