"""Documents sent to the patient (seed 000 §2.3.4, seed 004): a download link by email, opened
with a one-time code by SMS, until it expires; each download audited."""

from sqlite_utils import Database


def up(db: Database) -> None:
    db["patient_shares"].create(
        {
            "id": str,  # SHA-256 of the link's token: a stolen database holds no usable link
            "document_id": str, "dossier_id": str, "email": str, "mobile": str, "created_by": str, "created_at": str,
            "expires_at": float, "revoked_at": str,
            "code_hash": str, "code_sent_at": float, "code_expires_at": float, "attempts": int, "downloads": int,
        },
        pk="id", foreign_keys=[("document_id", "documents", "id"), ("dossier_id", "dossiers", "id")],
        not_null={"document_id", "dossier_id", "email", "mobile", "created_by", "created_at", "expires_at"},
        defaults={"attempts": 0, "downloads": 0},
    )
    db["patient_shares"].create_index(["document_id"])
