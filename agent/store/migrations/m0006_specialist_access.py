"""The specialist's way into a dossier through the invitation link: a one-time code sent to
their mobile or email, then a session limited to that dossier and its report window."""

from sqlite_utils import Database


def up(db: Database) -> None:
    db["link_codes"].create(
        {"invitation_id": str, "code_hash": str, "channel": str, "sent_at": float, "expires_at": float, "attempts": int},
        pk="invitation_id", foreign_keys=[("invitation_id", "invitations", "id")],
        not_null={"code_hash", "channel", "sent_at", "expires_at"}, defaults={"attempts": 0},
    )
    db["link_sessions"].create(
        {"id": str, "invitation_id": str, "csrf_token": str, "created_at": float, "expires_at": float, "remote_addr": str},
        pk="id", foreign_keys=[("invitation_id", "invitations", "id")],
        not_null={"invitation_id", "csrf_token", "created_at", "expires_at"},
    )
