"""A PDF of the dossier sent to the patient (seed 000 §2.3.4 "Envoyer le document", seed 004):
the email carries a link, the link asks for a one-time code sent by SMS to the patient's mobile,
the code downloads the document. The link expires; each download is audited. Only PDFs leave.
Neither the email nor the SMS names the patient or the document."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from agent import audit
from agent.access import link_codes
from agent.audit import Actor
from agent.clock import clock_time, long_date, utc_now_iso
from agent.dossiers.documents import pdf_of
from agent.notify import masked
from agent.notify import queue as deliveries
from agent.refusal import Refused
from agent.store import outbox
from agent.store.changes import Operation, PatientShareChange


class ShareRefused(Refused):
    """The document cannot be sent or downloaded."""


@dataclass(frozen=True)
class Shared:
    token: str
    expires_at: datetime
    email: str
    mobile: str


def share(db: Database, dossier_id: str, document_id: str, email: str | None, mobile: str | None, actor: Actor,
          public_url: str, establishment: str, days: int, zone: ZoneInfo, now: datetime) -> Shared:
    doc = pdf_of(db, dossier_id, document_id, lambda _name: ShareRefused("not_a_pdf"))
    patient = db["patients"].get(doc.patient_id)
    email, mobile = email or patient["email"], mobile or patient["mobile"]
    if not email or not mobile:
        raise ShareRefused("patient_unreachable")
    token = secrets.token_urlsafe(18)
    expires = now + timedelta(days=days)
    share_id = link_codes.token_digest(token)
    db["patient_shares"].insert({"id": share_id, "document_id": document_id, "dossier_id": dossier_id, "email": email,
                                 "mobile": mobile, "created_by": actor.login, "created_at": utc_now_iso(),
                                 "expires_at": expires.timestamp()})
    outbox.record(db, share_id, Operation.CREATE, PatientShareChange(
        dossier_id=dossier_id, document_id=document_id, to_email=bool(email), to_mobile=bool(mobile),
        expires_at=expires.isoformat(timespec="seconds")))
    until = f"{long_date(expires, zone)} à {clock_time(expires, zone)}"
    text = (f"Bonjour,\n\n{establishment} a déposé un document à votre intention après votre téléconsultation.\n\n"
            f"Pour le télécharger, ouvrez ce lien :\n\n{public_url.rstrip('/')}/d/{token}\n\n"
            f"Un code à usage unique vous sera envoyé par SMS au {masked(mobile)} pour l'ouvrir. "
            f"Le lien est valable jusqu'au {until}.\n\nCe lien vous est personnel : ne le transférez pas.\n\n— {establishment}\n")
    deliveries.enqueue(db, "email", email, f"{establishment} — un document vous attend", text, "document_link", document_id)
    audit.append(db, actor.event("document.send", doc.patient_id, detail=f"« {doc.name} » envoyé au patient ({masked(email)})"))
    return Shared(token, expires, email, mobile)


def check_live(db: Database, token: str, now: datetime) -> dict:
    rows = list(db.query("SELECT s.*, x.patient_id FROM patient_shares s JOIN dossiers x ON x.id = s.dossier_id WHERE s.id = ?", [link_codes.token_digest(token)]))
    if not rows:
        raise ShareRefused("share_unknown")
    row = rows[0]
    if row["revoked_at"] or now.timestamp() >= row["expires_at"]:
        raise ShareRefused("share_expired")
    return row


def send_code(db: Database, token: str, now: datetime, establishment: str) -> str:
    row = check_live(db, token, now)
    issued = link_codes.issue(row["id"], now.timestamp(), row["code_sent_at"])
    db["patient_shares"].update(row["id"], {"code_hash": issued.digest, "code_sent_at": issued.sent_at,
                                            "code_expires_at": issued.expires_at, "attempts": 0})
    deliveries.enqueue(db, "sms", row["mobile"], None,
                       f"{establishment} : votre code pour télécharger votre document est {issued.code}. Il expire dans 10 minutes.",
                       "otp", row["id"])
    return masked(row["mobile"])


def download(db: Database, token: str, code: str, now: datetime, remote_addr: str | None) -> tuple[str, str]:
    """The document's blob and name, if the code is right; a code downloads once."""
    row = check_live(db, token, now)
    who = audit.AuditEvent(actor=f"patient ({masked(row['email'])})", action="document.download", role="patient",
                           patient_id=row["patient_id"], remote_addr=remote_addr)
    if not link_codes.matches(row["id"], code, row["code_hash"], row["code_expires_at"], row["attempts"], now.timestamp()):
        db["patient_shares"].update(row["id"], {"attempts": row["attempts"] + 1})
        audit.append(db, replace(who, outcome=audit.FAILURE, detail="code erroné"))
        raise link_codes.wrong(row["attempts"])
    db["patient_shares"].update(row["id"], {"code_hash": None, "downloads": row["downloads"] + 1})
    doc = db["documents"].get(row["document_id"])
    audit.append(db, replace(who, detail=f"« {doc['name']} »"))
    return doc["blob"], doc["name"]
