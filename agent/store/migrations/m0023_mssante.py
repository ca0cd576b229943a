"""Sending a dossier's PDFs by MSSanté (agent/notify/mssante.py): what was sent, to whom, by whom
(`mssante_messages`; the message itself waits sealed in `deliveries`, whose `ref_id` is the
message's id), and the professionals' MSSanté addresses in the directory.

A message goes with its dossier: deleting the dossier (agent/dossiers/retention.py) deletes its
messages by cascade, and their deliveries by trigger."""

from sqlite_utils import Database


def up(db: Database) -> None:
    db.execute("""
        CREATE TABLE mssante_messages (
            id TEXT PRIMARY KEY,
            dossier_id TEXT NOT NULL REFERENCES dossiers(id) ON DELETE CASCADE,
            recipient TEXT NOT NULL,
            recipient_name TEXT,
            directory_id INTEGER,
            documents TEXT NOT NULL,  -- JSON: [{"id": document id or "report", "name": shown name}]
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX idx_mssante_messages_dossier ON mssante_messages (dossier_id, created_at)")
    db.execute("""
        CREATE TRIGGER mssante_messages_deliveries AFTER DELETE ON mssante_messages
        BEGIN
            DELETE FROM deliveries WHERE ref_id = OLD.id AND purpose = 'mssante';
        END""")
    db["directory"].add_column("mssante", str)
