"""A dossier the EHPAD cancels (seed 001 §4: only the consulted doctor's signature closes one):
why, who, when."""

from sqlite_utils import Database


def up(db: Database) -> None:
    for column in ("cancel_reason", "cancelled_by", "cancelled_at"):
        db["dossiers"].add_column(column, str)
