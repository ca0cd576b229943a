"""Téléexpertise (issue 15): an expert's written opinion without a call. A dossier is now of one
kind or the other; a téléexpertise has no slot (it holds no time of the cart), a deadline the nurse
chose for the answer, the question asked, and when its expert was reminded."""

from sqlite_utils import Database


def up(db: Database) -> None:
    db["dossiers"].add_column("kind", str, not_null_default="teleconsultation")
    db["dossiers"].add_column("deadline", str)
    db["dossiers"].add_column("question", str)
    db["dossiers"].add_column("reminded_at", str)
