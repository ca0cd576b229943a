"""The identity check screen of seed 000 §2.2.1 shows and corrects the civility and the home
address beside the names and contacts."""

from sqlite_utils import Database


def up(db: Database) -> None:
    for column in ("civility", "address_line", "postal_code", "city"):
        db["patients"].add_column(column, str)
