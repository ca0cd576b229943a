"""A one-time code by SMS or email at login, beside the authenticator app (seed 000 §1.1.2):
the staff member's own mobile and email, and the live code of each account, as a digest."""

from sqlite_utils import Database


def up(db: Database) -> None:
    db["users"].add_column("email", str)
    db["users"].add_column("mobile", str)
    db["login_codes"].create({"user_id": int, "code_hash": str, "channel": str, "sent_at": float, "expires_at": float, "attempts": int},
                             pk="user_id", not_null={"code_hash", "channel", "sent_at", "expires_at", "attempts"})
