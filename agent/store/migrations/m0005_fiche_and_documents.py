"""The teleconsultation form (fiche), vitals, documents of a dossier, and staff signatures."""

from sqlite_utils import Database


def up(db: Database) -> None:
    dossiers = db["dossiers"]
    for column in ("history", "observations", "expert_opinion", "signed_by", "signed_at"):
        dossiers.add_column(column, str)

    db["vitals"].create(
        {"id": int, "dossier_id": str, "kind": str, "value": str, "unit": str, "measured_at": str, "source": str,
         "recorded_by": str},
        pk="id", foreign_keys=[("dossier_id", "dossiers", "id")],
        not_null={"dossier_id", "kind", "value", "measured_at", "source", "recorded_by"},
    )
    db["vitals"].create_index(["dossier_id"])

    db["documents"].create(
        {
            "id": str, "dossier_id": str, "blob": str, "name": str, "kind": str, "mime": str, "size": int, "pages": int,
            "width": int, "height": int, "added_by": str, "added_at": str,
            "original_blob": str,  # before a signature was stamped on it
            "signed_by": str, "signed_at": str,
        },
        pk="id", foreign_keys=[("dossier_id", "dossiers", "id")],
        not_null={"dossier_id", "blob", "name", "kind", "mime", "size", "added_by", "added_at"},
    )
    db["documents"].create_index(["dossier_id"])

    db["staff_signatures"].create({"login": str, "blob": str, "uploaded_at": str}, pk="login", not_null={"blob", "uploaded_at"})
