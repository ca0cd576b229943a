"""Where each large document's resumable upload lives on the region's upload server
(cloud_sync/resumable_upload.py), kept from its creation so that a cut link, a reboot or a power
cut resumes it rather than starting again; finished once the server holds every byte."""

from sqlite_utils import Database


def up(db: Database) -> None:
    db["sync_uploads"].create({"entry_id": int, "url": str, "created_at": str, "finished_at": str},
                              pk="entry_id", not_null={"url", "created_at"})
