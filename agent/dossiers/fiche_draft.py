"""The fiche as its author types it, before « Enregistrer la fiche »: saved by the kiosk as she
types, per dossier and staff member, restored on the dossier's page after an idle lock, a reload
or a restart of the agent, dropped when she saves the fiche (agent/dossiers/fiche.update) and when
the dossier ends (dossier.transition). Her own working copy: not the record, not synced."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from agent.clock import utc_now_iso
from agent.dossiers.dossier import open_dossier


def save(db: Database, dossier_id: str, login: str, body: dict[str, Any]) -> None:
    open_dossier(db, dossier_id)
    db["fiche_drafts"].upsert({"dossier_id": dossier_id, "login": login, "body": json.dumps(body, ensure_ascii=False),
                               "updated_at": utc_now_iso()}, pk=("dossier_id", "login"))


def load(db: Database, dossier_id: str, login: str) -> dict[str, Any] | None:
    row = db.execute("SELECT body FROM fiche_drafts WHERE dossier_id = ? AND login = ?", [dossier_id, login]).fetchone()
    return json.loads(row[0]) if row else None


def drop(db: Database, dossier_id: str, login: str) -> None:
    db.execute("DELETE FROM fiche_drafts WHERE dossier_id = ? AND login = ?", [dossier_id, login])
