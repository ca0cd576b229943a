"""The teleconsultation wizard's draft: the kiosk saves it after each step and on every change,
keyed by the staff member, and drops it once the dossier is created."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from agent.clock import utc_now_iso


def save(db: Database, login: str, body: dict[str, Any]) -> None:
    db["wizard_drafts"].upsert({"login": login, "body": json.dumps(body, ensure_ascii=False), "updated_at": utc_now_iso()}, pk="login")


def load(db: Database, login: str) -> dict[str, Any] | None:
    row = db.execute("SELECT body FROM wizard_drafts WHERE login = ?", [login]).fetchone()
    return json.loads(row[0]) if row else None


def drop(db: Database, login: str) -> None:
    db.execute("DELETE FROM wizard_drafts WHERE login = ?", [login])
