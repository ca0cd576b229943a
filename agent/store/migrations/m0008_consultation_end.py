"""End of consultation (seed 004): the call's rating, the amount to charge, who ended it."""

from sqlite_utils import Database


def up(db: Database) -> None:
    for column, kind in (("rating", int), ("rating_comment", str), ("amount_cents", int), ("ended_by", str), ("ended_at", str)):
        db["dossiers"].add_column(column, kind)
