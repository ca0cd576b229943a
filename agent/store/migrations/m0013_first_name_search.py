"""The one-box resident search matches each typed word against names and first names alike: the
first name's columns are indexed as the names' already are (m0002)."""

from sqlite_utils import Database


def up(db: Database) -> None:
    for column in ("first_name_norm", "first_name_phon"):
        db["patients"].create_index([column])
