"""A PDF of the dossier sent to the patient (seed 000 §2.3.4 "Envoyer le document", seed 004):
the email carries a link, the link asks for a one-time code sent by SMS to the patient's mobile,
the code downloads the document. The link expires; each download is audited. Only PDFs leave.
Neither the email nor the SMS names the patient or the document."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from agent import audit, invitation
from agent.audit import Actor
from agent.clock import utc_now_iso
from agent.dossier import DossierRefused
from agent.notify import masked
from agent.notify import queue as deliveries
from agent.refusal import Refused

CODE_SECONDS = 10 * 60
RESEND_SECONDS = 30
MAX_ATTEMPTS = 5


class ShareRefused(Refused):
    """The document cannot be sent or downloaded."""


def _id(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True)
class Shared:
    token: str
    expires_at: datetime
    email: str
    mobile: str


def share(db: Database, dossier_id: str, document_id: str, email: str | None, mobile: str | None, actor: Actor,
          public_url: str, establishment: str, days: int, zone: ZoneInfo, now: datetime) -> Shared:
    rows = list(db.query("SELECT d.mime, d.name, x.patient_id FROM documents d JOIN dossiers x ON x.id = d.dossier_id "
                         "WHERE d.id = ? AND d.dossier_id = ?", [document_id, dossier_id]))
    if not rows:
        raise DossierRefused("not_found")
    doc = rows[0]
    if doc["mime"] != "application/pdf":
        raise ShareRefused("not_a_pdf")
    patient = db["patients"].get(doc["patient_id"])
    email, mobile = email or patient["email"], mobile or patient["mobile"]
    if not email or not mobile:
        raise ShareRefused("patient_unreachable")
    token = secrets.token_urlsafe(18)
    expires = now + timedelta(days=days)
    db["patient_shares"].insert({"id": _id(token), "document_id": document_id, "dossier_id": dossier_id, "email": email,
                                 "mobile": mobile, "created_by": actor.login, "created_at": utc_now_iso(),
                                 "expires_at": expires.timestamp()})
    until = f"{invitation.long_date(expires, zone)} à {invitation.clock_time(expires, zone)}"
    text = (f"Bonjour,\n\n{establishment} a déposé un document à votre intention après votre téléconsultation.\n\n"
            f"Pour le télécharger, ouvrez ce lien :\n\n{public_url.rstrip('/')}/d/{token}\n\n"
            f"Un code à usage unique vous sera envoyé par SMS au {masked(mobile)} pour l'ouvrir. "
            f"Le lien est valable jusqu'au {until}.\n\nCe lien vous est personnel : ne le transférez pas.\n\n— {establishment}\n")
    deliveries.enqueue(db, "email", email, f"{establishment} — un document vous attend", text, "document_link", document_id)
    audit.append(db, actor.event("document.send", doc["patient_id"], detail=f"« {doc['name']} » envoyé au patient ({masked(email)})"))
    return Shared(token, expires, email, mobile)


def check_live(db: Database, token: str, now: datetime) -> dict:
    rows = list(db.query("SELECT s.*, x.patient_id FROM patient_shares s JOIN dossiers x ON x.id = s.dossier_id WHERE s.id = ?", [_id(token)]))
    if not rows:
        raise ShareRefused("share_unknown")
    row = rows[0]
    if row["revoked_at"] or now.timestamp() >= row["expires_at"]:
        raise ShareRefused("share_expired")
    return row


def send_code(db: Database, token: str, now: datetime, establishment: str) -> str:
    row = check_live(db, token, now)
    stamp = now.timestamp()
    if row["code_sent_at"] and stamp - row["code_sent_at"] < RESEND_SECONDS:
        raise ShareRefused("code_too_soon", seconds=int(RESEND_SECONDS - (stamp - row["code_sent_at"])) + 1)
    code = f"{secrets.randbelow(10**6):06d}"
    db["patient_shares"].update(row["id"], {"code_hash": _hash(row["id"], code), "code_sent_at": stamp,
                                            "code_expires_at": stamp + CODE_SECONDS, "attempts": 0})
    deliveries.enqueue(db, "sms", row["mobile"], None,
                       f"{establishment} : votre code pour télécharger votre document est {code}. Il expire dans 10 minutes.",
                       "otp", row["id"])
    return masked(row["mobile"])


def _hash(share_id: str, code: str) -> str:
    return hashlib.sha256(f"{share_id}:{code}".encode()).hexdigest()


def download(db: Database, token: str, code: str, now: datetime, remote_addr: str | None) -> tuple[str, str]:
    """The document's blob and name, if the code is right; a code downloads once."""
    row = check_live(db, token, now)
    who = audit.AuditEvent(actor=f"patient ({masked(row['email'])})", action="document.download", role="patient",
                           patient_id=row["patient_id"], remote_addr=remote_addr)
    if not row["code_hash"] or now.timestamp() >= (row["code_expires_at"] or 0) or row["attempts"] >= MAX_ATTEMPTS:
        raise ShareRefused("code_expired")
    if not hmac.compare_digest(row["code_hash"], _hash(row["id"], code.strip())):
        db["patient_shares"].update(row["id"], {"attempts": row["attempts"] + 1})
        audit.append(db, replace(who, outcome=audit.FAILURE, detail="code erroné"))
        raise ShareRefused("code_wrong", left=MAX_ATTEMPTS - row["attempts"] - 1)
    db["patient_shares"].update(row["id"], {"code_hash": None, "downloads": row["downloads"] + 1})
    doc = db["documents"].get(row["document_id"])
    audit.append(db, replace(who, detail=f"« {doc['name']} »"))
    return doc["blob"], doc["name"]
