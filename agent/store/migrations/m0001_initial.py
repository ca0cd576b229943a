"""Staff accounts, sessions, the audit trail, the outbox, and the first health data tables."""

from sqlite_utils import Database


def up(db: Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")

    db["users"].create(
        {
            "id": int,
            "login": str,
            "display_name": str,
            "role": str,
            "password_hash": str,
            "otp_secret": str,
            "otp_last_step": int,  # last accepted RFC 6238 time step: a code works once
            "disabled": int,
            "created_at": str,
        },
        pk="id",
        not_null={"login", "display_name", "role", "password_hash", "otp_secret", "created_at"},
        defaults={"otp_last_step": 0, "disabled": 0},
    )
    db["users"].create_index(["login"], unique=True)

    # Keyed by the login typed, not by account: unknown logins lock too (see access/throttle.py).
    db["login_failures"].create(
        {"login": str, "failed": int, "locked_until": float, "last_failure": float},
        pk="login",
        not_null={"failed", "last_failure"},
    )

    db["sessions"].create(
        {
            "id": str,  # SHA-256 of the cookie's token: a stolen database holds no usable token
            "user_id": int,
            "method": str,  # how the user got in: password+otp, cps, psc
            "csrf_token": str,
            "remote_addr": str,
            "created_at": float,
            "last_active": float,
            "expires_at": float,
            "locked": int,
        },
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
        not_null={"user_id", "method", "csrf_token", "created_at", "last_active", "expires_at"},
        defaults={"locked": 0},
    )

    db["audit"].create(
        {
            "seq": int,
            "at": str,
            "actor": str,
            "role": str,
            "action": str,
            "patient_id": str,
            "remote_addr": str,
            "outcome": str,
            "detail": str,
            "prev_hash": str,
            "hash": str,
        },
        pk="seq",
        not_null={"at", "actor", "action", "outcome", "prev_hash", "hash"},
    )
    db["audit"].create_index(["patient_id"])
    db["audit"].create_index(["actor"])
    # Append-only: the database itself refuses to change or remove a record.
    db.execute(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END"
    )

    db["outbox"].create(
        {
            "id": int,
            "at": str,
            "entity": str,
            "entity_id": str,
            "operation": str,
            "payload": str,
            "state": str,  # pending -> sent (cloud_sync drains it)
            "attempts": int,
        },
        pk="id",
        not_null={"at", "entity", "entity_id", "operation", "payload", "state"},
        defaults={"state": "pending", "attempts": 0},
    )
    db["outbox"].create_index(["state", "id"])

    db["patients"].create(
        {
            "id": str,
            "birth_name": str,
            "used_name": str,
            "first_names": str,  # JSON list, first one is the used first name
            "birth_date": str,
            "sex": str,
            "identity_status": str,
            "created_at": str,
            "updated_at": str,
            "created_by": str,
        },
        pk="id",
        not_null={"birth_name", "first_names", "birth_date", "sex", "identity_status", "created_at", "updated_at"},
    )
    db["patients"].create_index(["birth_name"])

    db["dossiers"].create(
        {
            "id": str,
            "patient_id": str,
            "state": str,  # draft, scheduled, in_progress, awaiting_report, closed
            "reason": str,
            "specialist": str,
            "specialty": str,
            "slot_start": str,
            "slot_minutes": int,
            "created_at": str,
            "updated_at": str,
            "created_by": str,
        },
        pk="id",
        foreign_keys=[("patient_id", "patients", "id")],
        not_null={"patient_id", "state", "created_at", "updated_at"},
    )
    db["dossiers"].create_index(["state", "slot_start"])
