"""The CPS card way in: the card proves itself (its key signs a fresh challenge that its
certificate verifies, the certificate chains to an authority the cart trusts), its national
identifier (idNat_PS) names the account, and the session is opened, or a locked one unlocked,
with the same bookkeeping as a password login (agent/access/login.py) under the method « cps ».

The PIN belongs to the card: a wrong one is counted by the card itself, and here too, per card
(its certificate's fingerprint), so that the kiosk can say how many tries remain even when the
card's module reports only "count low" (PKCS#11 flags); the last try is never spent without the
person's explicit choice, and a card known to be blocked is not tried at all.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from sqlite_utils import Database

from agent import audit
from agent.access import accounts, sessions
from agent.access.accounts import Principal
from agent.access.login import METHOD_CPS, METHOD_LABELS_FR, LoginPolicy, Outcome
from agent.access.roles import Role
from agent.access.sessions import Session
from drivers.smartcard.certificate import Practitioner
from drivers.smartcard.token import PinState


class CardRefusal(StrEnum):
    NOT_LINKED = "card_not_linked"


@dataclass(frozen=True)
class CardPolicy:
    pin_tries: int
    create_accounts: bool
    new_account_role: Role


def tries_left(db: Database, card: str, policy: CardPolicy, state: PinState) -> int:
    """Tries before the card blocks: the card's own flags when it sets them, else our count."""
    if state.locked:
        return 0
    row = db.execute("SELECT failures FROM card_pin_failures WHERE card = ?", [card]).fetchone()
    left = max(0, policy.pin_tries - (row[0] if row else 0))
    return min(left, 1) if state.final_try else left


def record_wrong_pin(db: Database, card: str, holder: str, remote_addr: str | None, now: float, left_after: int) -> None:
    db.execute("INSERT INTO card_pin_failures (card, failures, updated_at) VALUES (?, 1, ?) "
               "ON CONFLICT (card) DO UPDATE SET failures = failures + 1, updated_at = excluded.updated_at", [card, now])
    detail = "carte CPS bloquée" if left_after == 0 else f"code porteur erroné, {left_after} essai(s) restant(s)"
    audit.append(db, audit.AuditEvent(actor=holder, action="login", outcome=audit.FAILURE, remote_addr=remote_addr, detail=detail))


def record_blocked(db: Database, card: str, policy: CardPolicy, now: float) -> None:
    """The card says it is blocked: no try is left, whatever we counted."""
    db.execute("INSERT INTO card_pin_failures (card, failures, updated_at) VALUES (?, ?, ?) "
               "ON CONFLICT (card) DO UPDATE SET failures = excluded.failures, updated_at = excluded.updated_at",
               [card, policy.pin_tries, now])


def signature_valid(certificate: x509.Certificate, challenge: bytes, signature: bytes) -> bool:
    """Did the key of `certificate` sign `challenge`? (SHA-256, RSA PKCS#1 v1.5 or ECDSA.)"""
    key = certificate.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, challenge, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _account_for(db: Database, holder: Practitioner, policy: CardPolicy) -> dict | None:
    rows = list(db.query("SELECT * FROM users WHERE idnat = ? AND disabled = 0", [holder.idnat]))
    if rows:
        return rows[0]
    if not policy.create_accounts or db.execute("SELECT 1 FROM users WHERE idnat = ?", [holder.idnat]).fetchone():
        return None  # not linked, or linked to a disabled account: an admin decides
    login = _free_login(db, holder)
    made = accounts.create_account(db, login, policy.new_account_role, secrets.token_urlsafe(32), holder.display_name,
                                   created_by=f"carte CPS {holder.idnat}")
    db["users"].update(made.principal.user_id, {"idnat": holder.idnat})
    return next(iter(db.query("SELECT * FROM users WHERE id = ?", [made.principal.user_id])))


def _free_login(db: Database, holder: Practitioner) -> str:
    """"cpetit", then "cpetit2"…: how staff logins usually look, from the card's names."""
    stem = re.sub(r"[^a-z0-9]", "", (holder.given_name[:1] + holder.surname).lower()
                  .translate(str.maketrans("àâäçéèêëîïôöùûüÿ", "aaaceeeeiioouuuy")))[:30] or "cps"
    login, n = stem, 1
    while db.execute("SELECT 1 FROM users WHERE login = ?", [login]).fetchone():
        n += 1
        login = f"{stem}{n}"
    return login


def conclude(db: Database, holder: Practitioner, remote_addr: str | None, policy: LoginPolicy, card_policy: CardPolicy,
             now: float, locked: Session | None) -> Outcome | CardRefusal:
    """The card proved itself with its PIN: open a session for its holder's account, or unlock the
    locked session `locked` when it is theirs. Someone else's card on a locked screen ends that
    session and opens the card holder's own: a session is never shared."""
    db.execute("DELETE FROM card_pin_failures WHERE card = ?", [holder.fingerprint])
    row = _account_for(db, holder, card_policy)
    if row is None:
        audit.append(db, audit.AuditEvent(actor=f"carte {holder.idnat}", action="login", outcome=audit.DENIED, remote_addr=remote_addr,
                                          detail=f"carte CPS de {holder.display_name} liée à aucun compte actif"))
        return CardRefusal.NOT_LINKED
    principal: Principal = accounts.principal_of(row)
    method = METHOD_LABELS_FR[METHOD_CPS]
    if locked is not None and locked.principal.user_id == principal.user_id:
        sessions.unlock(db, locked.id, now, card=holder.fingerprint)
        audit.append(db, audit.AuditEvent(actor=principal.login, role=principal.role.value, action="session.unlock",
                                          remote_addr=remote_addr, detail=method))
        return Outcome(principal=principal)
    if locked is not None:
        sessions.close(db, locked.id, audit.AuditEvent(
            actor=locked.principal.login, role=locked.principal.role.value, action="logout", remote_addr=remote_addr,
            detail=f"poste repris par la carte CPS de {principal.display_name}"))
    token, session = sessions.open_session(db, principal, METHOD_CPS, remote_addr, now, policy.session_seconds, card=holder.fingerprint)
    audit.append(db, audit.AuditEvent(actor=principal.login, role=principal.role.value, action="login", remote_addr=remote_addr,
                                      detail=method))
    return Outcome(principal=principal, token=token, session=session)
