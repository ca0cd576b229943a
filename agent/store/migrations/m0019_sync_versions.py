"""The version the regional server gave each resource the cart keeps up to date (its ETag), so the
next update says which version it replaces (If-Match) and a change made on the server meanwhile is
a conflict for a person, never overwritten."""

from sqlite_utils import Database


def up(db: Database) -> None:
    # location: where the server keeps it (Encounter/<its id>), for updates that name their version
    db["sync_versions"].create({"resource": str, "location": str, "etag": str, "at": str}, pk="resource",
                               not_null={"location", "etag", "at"})
