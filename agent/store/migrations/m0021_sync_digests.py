"""What the cart last wrote to each resource it keeps up to date (a digest of its content), so a
change that leaves a resource as it was sends nothing (the Encounter rebuilt for a new vital)."""

from sqlite_utils import Database


def up(db: Database) -> None:
    db["sync_versions"].add_column("digest", str)
