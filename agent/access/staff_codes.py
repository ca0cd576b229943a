"""A one-time code by SMS or by email at login, beside the authenticator app (seed 000 §1.1.2):
the person types their login and password, chooses where the code goes, and types it. The code
leaves through the same delivery queue as the invitations (its text erased once sent), works
once, expires in ten minutes, allows five tries and a new one every 30 seconds (link_codes.py:
the rules and the digest are the outside links'); it is erased once used.

Which second factors an account has: the authenticator app always, an SMS code when the account
has a mobile, an email code when it has an email; `[security] second_factors` says which of
them the establishment allows.
"""

from __future__ import annotations

from sqlite_utils import Database

from agent import audit
from agent.access import link_codes
from agent.notify import masked
from agent.notify import queue as deliveries
from agent.refusal import Refused

CHANNELS = ("sms", "email")
PURPOSE = "otp"  # the queue erases a code's text once it is sent (queue.SECRET_PURPOSES)


def factors_of(row: dict, allowed: list[str]) -> list[str]:
    """The second factors this account can use: "totp", "sms", "email", as allowed."""
    have = ["totp"] + [c for c, address in (("sms", row.get("mobile")), ("email", row.get("email"))) if address]
    return [f for f in have if f in allowed]


def _scope(user_id: int) -> str:
    return f"login:{user_id}"


def send(db: Database, row: dict, channel: str, now: float, establishment: str, allowed: list[str],
         remote_addr: str | None) -> dict[str, str]:
    """Queue a new code to the account's own mobile or email; where it went, masked."""
    if channel not in factors_of(row, allowed):
        raise Refused("factor_unavailable", channel="SMS" if channel == "sms" else "e-mail")
    previous = db.execute("SELECT sent_at FROM login_codes WHERE user_id = ?", [row["id"]]).fetchone()
    issued = link_codes.issue(_scope(row["id"]), now, previous[0] if previous else None)
    db["login_codes"].upsert({"user_id": row["id"], "code_hash": issued.digest, "channel": channel, "sent_at": issued.sent_at,
                              "expires_at": issued.expires_at, "attempts": 0}, pk="user_id")
    deliveries.cancel_pending(db, _scope(row["id"]), "Remplacé par un nouveau code", purpose=PURPOSE)
    recipient = row["mobile"] if channel == "sms" else row["email"]
    text = f"{establishment} : votre code de connexion au chariot est {issued.code}. Il expire dans 10 minutes. Ne le communiquez à personne."
    deliveries.enqueue(db, channel, recipient, "Code de connexion" if channel == "email" else None, text, PURPOSE, _scope(row["id"]))
    audit.append(db, audit.AuditEvent(actor=row["login"], role=row["role"], action="login.code", remote_addr=remote_addr,
                                      detail=f"code de connexion envoyé par {'SMS' if channel == 'sms' else 'e-mail'}"))
    return {"channel": channel, "sent_to": masked(recipient)}


def consume(db: Database, user_id: int, typed: str, now: float) -> str | None:
    """The channel of the live code `typed` is, which is then erased; None when it is not one
    (a wrong try counts: five and the code is dead)."""
    row = db.execute("SELECT code_hash, channel, expires_at, attempts FROM login_codes WHERE user_id = ?", [user_id]).fetchone()
    if row is None:
        return None
    digest, channel, expires_at, attempts = row
    try:
        right = link_codes.matches(_scope(user_id), typed, digest, expires_at, attempts, now)
    except link_codes.CodeRefused:  # expired or used up
        db.execute("DELETE FROM login_codes WHERE user_id = ?", [user_id])
        return None
    if not right:
        db.execute("UPDATE login_codes SET attempts = attempts + 1 WHERE user_id = ?", [user_id])
        return None
    db.execute("DELETE FROM login_codes WHERE user_id = ?", [user_id])
    return channel
