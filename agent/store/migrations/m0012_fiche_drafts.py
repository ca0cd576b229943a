"""The fiche as it is typed: a draft per dossier and staff member, kept until « Enregistrer la
fiche » (or the dossier's end), so that an idle lock, a reload or a restart loses nothing."""

from sqlite_utils import Database


def up(db: Database) -> None:
    db["fiche_drafts"].create({"dossier_id": str, "login": str, "body": str, "updated_at": str}, pk=("dossier_id", "login"),
                              not_null={"body", "updated_at"})
