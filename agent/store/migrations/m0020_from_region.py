"""What the regional server wrote for a dossier and the cart brought back (issue 13): each item by
its address on the server and the version seen, so it is taken once and again only when it
changed; a note (the expert's opinion as text), a document (then kept among the dossier's
documents, marked as received), or refused (its content not acceptable, with the reason)."""

from sqlite_utils import Database


def up(db: Database) -> None:
    db["region_items"].create(
        {"region_ref": str, "version": str, "dossier_id": str, "kind": str, "title": str, "author": str, "text": str,
         "written_at": str, "received_at": str, "document_id": str},
        pk="region_ref", foreign_keys=[("dossier_id", "dossiers", "id")],
        not_null={"version", "dossier_id", "kind", "received_at"},
    )
    db["region_items"].create_index(["dossier_id"])
    db["documents"].add_column("region_ref", str)  # received from the regional server: never sent back
