"""Identity fields of the French identity rules (birthplace, INS, contacts) and the columns that
make exact and phonetic identity search index lookups instead of scans."""

import json

from sqlite_utils import Database

from agent.identity.phonetic import search_columns


def up(db: Database) -> None:
    patients = db["patients"]
    for column in ("birth_insee", "birth_country", "ins", "email", "mobile", *search_columns("", "", [])):
        patients.add_column(column, str)
    for row in db.query("SELECT id, birth_name, used_name, first_names FROM patients"):
        patients.update(row["id"], search_columns(row["birth_name"], row["used_name"], json.loads(row["first_names"])))
    for column in ("birth_name_norm", "used_name_norm", "birth_name_phon", "used_name_phon", "ins", "birth_date"):
        patients.create_index([column])
