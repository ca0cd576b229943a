"""The creation wizard's draft, one per staff member: what was typed survives a reload, a lock,
a crash or a power cut, and never shows to the next user of the kiosk."""

from sqlite_utils import Database


def up(db: Database) -> None:
    db["wizard_drafts"].create({"login": str, "body": str, "updated_at": str}, pk="login", not_null={"body", "updated_at"})
