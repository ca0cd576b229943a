"""Sessions: a random token in an HttpOnly cookie, stored only as its SHA-256.

A session expires a fixed time after login; it locks after an idle time and then answers only
to unlock (the same user's credentials), lookup and logout. Each session carries a CSRF token the
client echoes in a header on every state-changing request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlite_utils import Database

from agent import audit
from agent.access.accounts import Principal
from agent.access.link_codes import token_digest
from agent.access.roles import Role
from agent.audit import AuditEvent

# How stale last_active may get before a request writes it again, so that most reads stay reads;
# never more than a tenth of the idle-lock time.
TOUCH_INTERVAL = 10.0


def touch_interval(idle_seconds: float) -> float:
    return min(TOUCH_INTERVAL, idle_seconds / 10)


@dataclass(frozen=True)
class Session:
    id: str
    principal: Principal
    method: str
    csrf_token: str
    created_at: float
    last_active: float
    expires_at: float
    locked: bool

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    def idle_locked(self, now: float, idle_seconds: float) -> bool:
        return self.locked or now - self.last_active >= idle_seconds


def open_session(
    db: Database, principal: Principal, method: str, remote_addr: str | None, now: float, lifetime: float, card: str | None = None,
) -> tuple[str, Session]:
    """A new session; `card`, the certificate fingerprint of the CPS card that opened it (pulling
    that card out locks it)."""
    token = secrets.token_urlsafe(32)
    row = {
        "card": card,
        "id": token_digest(token),
        "user_id": principal.user_id,
        "method": method,
        "csrf_token": secrets.token_urlsafe(32),
        "remote_addr": remote_addr,
        "created_at": now,
        "last_active": now,
        "expires_at": now + lifetime,
        "locked": 0,
    }
    db["sessions"].insert(row)
    return token, Session(row["id"], principal, method, row["csrf_token"], now, now, row["expires_at"], False)


def find(db: Database, token: str, now: float | None) -> Session | None:
    """The live session for `token`, or None when unknown or expired; `now=None` returns an
    expired session too (not yet purged), so its refusal can be audited under its user."""
    rows = list(
        db.query(
            "SELECT s.*, u.login, u.display_name, u.role FROM sessions s JOIN users u ON u.id = s.user_id "
            "WHERE s.id = ? AND s.expires_at > ? AND u.disabled = 0",
            [token_digest(token), now if now is not None else float("-inf")],
        )
    )
    if not rows:
        return None
    r = rows[0]
    principal = Principal(r["user_id"], r["login"], r["display_name"], Role(r["role"]))
    return Session(r["id"], principal, r["method"], r["csrf_token"], r["created_at"], r["last_active"], r["expires_at"], bool(r["locked"]))


def touch(db: Database, session: Session, now: float) -> None:
    db.execute("UPDATE sessions SET last_active = ? WHERE id = ? AND locked = 0", [now, session.id])


def lock(db: Database, session_id: str, event: AuditEvent) -> bool:
    """Lock the session and audit it, once: a session already locked records nothing."""
    locked = db.execute("UPDATE sessions SET locked = 1 WHERE id = ? AND locked = 0", [session_id]).rowcount == 1
    if locked:
        audit.append(db, event)
    return locked


def unlock(db: Database, session_id: str, now: float, card: str | None = None) -> None:
    """Unlocked by its user; by a card, the session then follows that card (see open_session)."""
    db.execute("UPDATE sessions SET locked = 0, last_active = ?, card = ? WHERE id = ?", [now, card, session_id])


def lock_by_card(db: Database, card: str) -> list[AuditEvent]:
    """Lock every open session of the card that was pulled out; one audit record each."""
    rows = list(db.query("SELECT s.id, u.login, u.role FROM sessions s JOIN users u ON u.id = s.user_id "
                         "WHERE s.card = ? AND s.locked = 0", [card]))
    events = [AuditEvent(actor=r["login"], role=r["role"], action="session.lock", detail="carte CPS retirée") for r in rows]
    for row, event in zip(rows, events):
        lock(db, row["id"], event)
    return events


def close(db: Database, session_id: str, event: AuditEvent) -> None:
    db.execute("DELETE FROM sessions WHERE id = ?", [session_id])
    audit.append(db, event)


def purge_expired(db: Database, now: float) -> int:
    return db.execute("DELETE FROM sessions WHERE expires_at <= ?", [now]).rowcount


def count_active(db: Database, now: float) -> int:
    return db.execute("SELECT count(*) FROM sessions WHERE expires_at > ?", [now]).fetchone()[0]


def last_activity(db: Database) -> float | None:
    """When anyone last used a session of this agent (the practice's: whether it is still in use)."""
    return db.execute("SELECT max(last_active) FROM sessions").fetchone()[0]
