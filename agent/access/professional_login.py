"""A health professional proved by a national authority (their CPS card, or Pro Santé Connect):
their national identifier (idNat_PS) names their account, and a session is opened, or their own
locked one unlocked, with the same bookkeeping as a password login (agent/access/login.py).

The account is the one an admin linked to that identifier (accounts page, `telecart users card`),
or, when the cart allows it, one created on first use with a configured role. Someone else
proving themself on a locked screen ends that session and opens their own: never a shared one.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlite_utils import Database

from agent import audit
from agent.access import accounts, sessions
from agent.access.login import METHOD_LABELS_FR, LoginPolicy, Outcome
from agent.access.roles import Role
from agent.access.sessions import Session


class NotLinked(StrEnum):
    REFUSED = "card_not_linked"


@dataclass(frozen=True)
class Professional:
    idnat: str
    given_name: str
    surname: str

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.surname.upper()}".strip()

    @property
    def rpps(self) -> str | None:
        return self.idnat[1:] if self.idnat.startswith("8") and len(self.idnat) == 12 else None


@dataclass(frozen=True)
class AccountPolicy:
    create_accounts: bool
    new_account_role: Role


def account_for(db: Database, who: Professional, policy: AccountPolicy) -> dict | None:
    rows = list(db.query("SELECT * FROM users WHERE idnat = ? AND disabled = 0", [who.idnat]))
    if rows:
        return rows[0]
    if not policy.create_accounts or db.execute("SELECT 1 FROM users WHERE idnat = ?", [who.idnat]).fetchone():
        return None  # not linked, or linked to a disabled account: an admin decides
    made = accounts.create_account(db, _free_login(db, who), policy.new_account_role, secrets.token_urlsafe(32), who.display_name,
                                   created_by=f"carte CPS {who.idnat}")
    db["users"].update(made.principal.user_id, {"idnat": who.idnat})
    return next(iter(db.query("SELECT * FROM users WHERE id = ?", [made.principal.user_id])))


def _free_login(db: Database, who: Professional) -> str:
    """"cpetit", then "cpetit2"…: how staff logins usually look, from the professional's names."""
    stem = re.sub(r"[^a-z0-9]", "", (who.given_name[:1] + who.surname).lower()
                  .translate(str.maketrans("àâäçéèêëîïôöùûüÿ", "aaaceeeeiioouuuy")))[:30] or "cps"
    login, n = stem, 1
    while db.execute("SELECT 1 FROM users WHERE login = ?", [login]).fetchone():
        n += 1
        login = f"{stem}{n}"
    return login


def conclude(db: Database, who: Professional, method: str, card: str | None, remote_addr: str | None, policy: LoginPolicy,
             account_policy: AccountPolicy, now: float, current: Session | None) -> Outcome | NotLinked:
    """`who` proved themself by `method` (with `card`, the certificate fingerprint of a CPS card):
    open a session for their account, or unlock `current` when it is theirs."""
    row = account_for(db, who, account_policy)
    label = METHOD_LABELS_FR[method]
    if row is None:
        audit.append(db, audit.AuditEvent(actor=f"professionnel {who.idnat}", action="login", outcome=audit.DENIED, remote_addr=remote_addr,
                                          detail=f"{label} : {who.display_name}, lié(e) à aucun compte actif"))
        return NotLinked.REFUSED
    principal = accounts.principal_of(row)
    if current is not None and current.principal.user_id == principal.user_id:
        sessions.unlock(db, current.id, now, card=card)
        audit.append(db, audit.AuditEvent(actor=principal.login, role=principal.role.value, action="session.unlock",
                                          remote_addr=remote_addr, detail=label))
        return Outcome(principal=principal)
    if current is not None:
        sessions.close(db, current.id, audit.AuditEvent(
            actor=current.principal.login, role=current.principal.role.value, action="logout", remote_addr=remote_addr,
            detail=f"poste repris par {principal.display_name} ({label})"))
    token, session = sessions.open_session(db, principal, method, remote_addr, now, policy.session_seconds, card=card)
    audit.append(db, audit.AuditEvent(actor=principal.login, role=principal.role.value, action="login", remote_addr=remote_addr,
                                      detail=label))
    return Outcome(principal=principal, token=token, session=session)
