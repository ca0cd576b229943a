"""The end of a teleconsultation (seed 004 "Au moment de raccrocher"): rate the call, state the
amount to charge, choose the PDFs to send to the patient. The call is over: the dossier waits for
the specialist's report."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from agent import audit
from agent.audit import Actor
from agent.clock import utc_now_iso
from agent.dossiers.dossier import DossierRefused, DossierState, transition
from agent.links import patient_share
from agent.store import outbox
from agent.store.changes import ConsultationEndChange, Operation


def end(db: Database, dossier_id: str, rating: int | None, comment: str | None, amount_cents: int | None,
        send: list[str], also_to: list[dict[str, str]], actor: Actor, public_url: str, establishment: str, days: int, zone: ZoneInfo, now: datetime) -> tuple[int, DossierState]:
    """Record the end; returns how many documents were sent and the dossier's state. All or nothing: a document that
    cannot be sent (not a PDF, no contacts) refuses the whole end, so nothing is half-recorded."""
    row = db.execute("SELECT state, patient_id FROM dossiers WHERE id = ?", [dossier_id]).fetchone()
    if row is None:
        raise DossierRefused("not_found")
    fields: dict[str, Any] = {"rating": rating, "rating_comment": comment, "amount_cents": amount_cents,
                              "ended_by": actor.login, "ended_at": utc_now_iso()}
    db["dossiers"].update(dossier_id, fields)
    outbox.record(db, dossier_id, Operation.CREATE, ConsultationEndChange(dossier_id=dossier_id, **{k: v for k, v in fields.items() if k != "ended_by"}))
    detail = ", ".join(x for x in (f"note {rating}/5" if rating else None,
                                   f"{amount_cents / 100:.2f} €".replace(".", ",") if amount_cents is not None else None) if x)
    audit.append(db, actor.event("consultation.end", row[1], detail=detail or None))
    state = DossierState(row[0])
    if state is DossierState.IN_PROGRESS:
        state = transition(db, dossier_id, DossierState.AWAITING_REPORT, actor)
    for document_id in send:
        patient_share.share(db, dossier_id, document_id, None, None, actor, public_url, establishment, days, zone, now)
        for other in also_to:  # each gets their own link and code
            patient_share.share(db, dossier_id, document_id, other["email"], other["mobile"], actor, public_url, establishment, days, zone, now)
    return len(send), state
