"""What the creation wizard records: consent, participants and their invitations, the room and
its time window, the directory of professionals, and the queue of emails and SMS to send.

Consent is its own record (who collected it, when, and the justification when refused) and the
database itself refuses a dossier without one: the consent row is written first, its foreign key
to the dossier is checked at COMMIT, and a trigger on dossiers aborts when no consent names it.
"""

from sqlite_utils import Database

LEGACY_CONSENT = "Consentement non tracé : télédossier créé avant l'enregistrement du consentement."


def up(db: Database) -> None:
    db["directory"].create(
        {
            "id": int, "name": str, "first_name": str, "specialty": str, "rpps": str, "email": str,
            "mobile": str, "active": int, "created_at": str, "updated_at": str,
        },
        pk="id", not_null={"name", "specialty", "created_at", "updated_at"}, defaults={"active": 1},
    )
    db["directory"].create_index(["name"])

    dossiers = db["dossiers"]
    dossiers.add_column("accompaniment", str)  # alone, relative, professional
    dossiers.add_column("specialist_id", int)  # the specialist's participant row

    db.execute(
        """
        CREATE TABLE consents (
            id INTEGER PRIMARY KEY,
            dossier_id TEXT NOT NULL UNIQUE REFERENCES dossiers(id) DEFERRABLE INITIALLY DEFERRED,
            patient_id TEXT NOT NULL REFERENCES patients(id),
            given INTEGER NOT NULL CHECK (given IN (0, 1)),
            comment TEXT,
            collected_by TEXT NOT NULL,
            collected_at TEXT NOT NULL,
            CHECK (given = 1 OR length(trim(coalesce(comment, ''))) > 0)
        )
        """
    )
    for row in db.query("SELECT id, patient_id, created_by, created_at FROM dossiers"):
        db["consents"].insert({
            "dossier_id": row["id"], "patient_id": row["patient_id"], "given": 0, "comment": LEGACY_CONSENT,
            "collected_by": row["created_by"] or "inconnu", "collected_at": row["created_at"],
        })
    db.execute(
        "CREATE TRIGGER dossier_needs_consent AFTER INSERT ON dossiers "
        "WHEN NOT EXISTS (SELECT 1 FROM consents WHERE dossier_id = NEW.id) "
        "BEGIN SELECT RAISE(ABORT, 'a dossier needs a consent record'); END"
    )

    # A room is where a call happens: a dossier's, or a Visio SMS one without a dossier.
    db["rooms"].create(
        {"id": str, "dossier_id": str, "opens_at": str, "closes_at": str, "created_by": str, "created_at": str},
        pk="id", foreign_keys=[("dossier_id", "dossiers", "id")],
        not_null={"opens_at", "closes_at", "created_by", "created_at"},
    )
    db["rooms"].create_index(["dossier_id"], unique=True)

    db["participants"].create(
        {
            "id": int, "room_id": str, "role": str,  # patient, relative, professional, specialist, guest
            "name": str, "first_name": str, "specialty": str, "rpps": str, "email": str, "mobile": str,
            "directory_id": int, "remote": int, "created_at": str,
        },
        pk="id", foreign_keys=[("room_id", "rooms", "id"), ("directory_id", "directory", "id")],
        not_null={"room_id", "role", "created_at"}, defaults={"remote": 1},
    )
    db["participants"].create_index(["room_id"])

    db["invitations"].create(
        {
            "id": str, "participant_id": int, "room_id": str, "created_at": str, "created_by": str,
            "revoked_at": str, "revoked_by": str, "sends": int, "last_sent_at": str,
        },
        pk="id", foreign_keys=[("participant_id", "participants", "id"), ("room_id", "rooms", "id")],
        not_null={"participant_id", "room_id", "created_at", "created_by"}, defaults={"sends": 0},
    )
    db["invitations"].create_index(["participant_id"])

    # Emails and SMS wait here until sent: a dead network delays them, never loses them.
    db["deliveries"].create(
        {
            "id": int, "created_at": str, "channel": str,  # email, sms
            "recipient": str, "subject": str, "body": str, "purpose": str, "ref_id": str,
            "state": str,  # pending -> sent | failed
            "attempts": int, "next_attempt_at": float, "last_error": str, "sent_at": str,
        },
        pk="id", not_null={"created_at", "channel", "recipient", "body", "purpose", "state", "next_attempt_at"},
        defaults={"state": "pending", "attempts": 0},
    )
    db["deliveries"].create_index(["state", "next_attempt_at"])
    db["deliveries"].create_index(["ref_id"])
