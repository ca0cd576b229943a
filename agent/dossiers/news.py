"""The kiosk's news (`GET /documents/news`): what came into the dossiers from outside the cart's
staff since the kiosk last asked, announced on its screen."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from agent.dossiers import documents
from agent.identity.patients import display_name

_NEWS_LABELS = {"expertise": "Réponse à la téléexpertise", "opinion": "Avis signé"}


def recent_from_outside(db: Database, since: str) -> list[dict[str, Any]]:
    """What came from outside the cart's staff after `since` (ISO), with the resident's name: a
    specialist's prescription or upload, a participant's during the call, what the regional server
    sent, and an expert's signed opinion (the answer to a téléexpertise). The kiosk announces them;
    a nurse's own uploads are not news to her."""
    rows = db.query(
        """SELECT * FROM (
             SELECT d.dossier_id, d.id AS document_id, d.kind, d.added_by AS who, d.added_at AS at, x.patient_id FROM documents d
               JOIN dossiers x ON x.id = d.dossier_id WHERE d.added_at > :since AND d.added_by NOT IN (SELECT login FROM users)
             UNION ALL
             SELECT x.id, '', CASE x.kind WHEN 'teleexpertise' THEN 'expertise' ELSE 'opinion' END, x.signed_by, x.signed_at, x.patient_id
               FROM dossiers x WHERE x.signed_at > :since) n
           JOIN patients p ON p.id = n.patient_id ORDER BY n.at LIMIT 20""", {"since": since})
    return [{"dossier_id": r["dossier_id"], "document_id": r["document_id"], "kind_label": _NEWS_LABELS.get(r["kind"]) or documents.KINDS[r["kind"]],
             "added_by": r["who"], "added_at": r["at"], "resident": display_name(r["used_name"], r["birth_name"], json.loads(r["first_names"]))}
            for r in rows]

