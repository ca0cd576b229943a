"""The CPS card way in: the card proves itself (its key signs a fresh challenge that its
certificate verifies, the certificate chains to an authority the cart trusts), then its holder's
session opens as professional_login.py says, under the method « cps », bound to the card.

The PIN belongs to the card: a wrong one is counted by the card itself, and here too, per card
(its certificate's fingerprint), so that the kiosk can say how many tries remain even when the
card's module reports only "count low" (PKCS#11 flags); the last try is never spent without the
person's explicit choice, and a card known to be blocked is not tried at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlite_utils import Database

from agent import audit
from agent.access import professional_login
from agent.access.login import METHOD_CPS, LoginPolicy, Outcome
from agent.access.professional_login import AccountPolicy, NotLinked, Professional
from agent.access.roles import Role
from agent.access.sessions import Session
from drivers.smartcard.token_types import PinState

if TYPE_CHECKING:  # cryptography's x509 comes with the first card, not the agent's start
    from cryptography import x509

    from drivers.smartcard.certificate import Practitioner


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
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

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


def conclude(db: Database, holder: Practitioner, remote_addr: str | None, policy: LoginPolicy, card_policy: CardPolicy,
             now: float, locked: Session | None) -> Outcome | NotLinked:
    """The card proved itself with its PIN: its count starts again, and its holder's session opens
    (agent/access/professional_login.py) bound to this card."""
    db.execute("DELETE FROM card_pin_failures WHERE card = ?", [holder.fingerprint])
    who = Professional(holder.idnat, holder.given_name, holder.surname)
    return professional_login.conclude(db, who, METHOD_CPS, holder.fingerprint, remote_addr, policy,
                                       AccountPolicy(card_policy.create_accounts, card_policy.new_account_role), now, locked)
