"""Staff accounts: creation (with a one-time-code secret), lookup, one-time codes consumed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlite_utils import Database

from agent import audit
from agent.access import otp
from agent.access.keys import keys_of
from agent.access.passwords import hash_password
from agent.access.roles import LABELS_FR, Role
from agent.clock import utc_now_iso
from agent.refusal import Refused

LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class Principal:
    """Someone who proved who they are: what sessions and audit records refer to."""

    user_id: int
    login: str
    display_name: str
    role: Role


@dataclass(frozen=True)
class NewAccount:
    principal: Principal
    otp_secret: str

    @property
    def otpauth_uri(self) -> str:
        return otp.provisioning_uri(self.otp_secret, self.principal.login)


def create_account(
    db: Database, login: str, role: Role, password: str, display_name: str | None = None,
    otp_secret: str | None = None, created_by: str = "cli",
) -> NewAccount:
    """Create an account inside the caller's transaction; audited."""
    if not LOGIN_PATTERN.match(login):
        raise AccountError("login must be 2-40 lowercase letters, digits, '.', '_' or '-'")
    if db.execute("SELECT 1 FROM users WHERE login = ?", [login]).fetchone():
        raise AccountError(f"an account named '{login}' already exists")
    secret = otp_secret or otp.new_secret()
    name = display_name or login
    user_id = db["users"].insert(
        {
            "login": login,
            "display_name": name,
            "role": role.value,
            "password_hash": hash_password(password),
            "otp_secret": keys_of(db).seal(secret),  # sealed under the cart's key, kept out of the database
            "created_at": utc_now_iso(),
        }
    ).last_pk
    audit.append(db, audit.AuditEvent(actor=created_by, action="account.create", detail=f"{login} ({LABELS_FR[role].lower()})"))
    return NewAccount(Principal(user_id, login, name, role), secret)


def find_by_login(db: Database, login: str) -> dict | None:
    """The active account of that name, its TOTP secret unsealed for the login check."""
    rows = list(db.query("SELECT * FROM users WHERE login = ? AND disabled = 0", [login]))
    return rows[0] | {"otp_secret": keys_of(db).unseal(rows[0]["otp_secret"])} if rows else None


def copy_account(db: Database, row: dict) -> Principal:
    """An account as another cart's store keeps it: the practice mode's copy of the nurse who enters
    it (agent/practice/), with her password, second factor and card, so that she unlocks her
    practice screen as she unlocks the real one. `row` is as `find_by_login` gives it."""
    db.execute("DELETE FROM users WHERE login = ?", [row["login"]])  # a demo account of the same name
    copied = {k: v for k, v in row.items() if k != "id"} | {"otp_secret": keys_of(db).seal(row["otp_secret"])}
    return principal_of(db["users"].get(db["users"].insert(copied).last_pk))


def principal_of(row: dict) -> Principal:
    return Principal(row["id"], row["login"], row["display_name"], Role(row["role"]))


def list_accounts(db: Database) -> list[Principal]:
    return [principal_of(row) for row in db.query("SELECT * FROM users WHERE disabled = 0 ORDER BY login")]


def consume_code_step(db: Database, user_id: int, otp_step: int) -> bool:
    """Consume the one-time code's time step. Returns False when the step was already used (a
    replayed code), atomically, so two logins with one code cannot both win."""
    cursor = db.execute(
        "UPDATE users SET otp_last_step = ? WHERE id = ? AND otp_last_step < ?",
        [otp_step, user_id, otp_step],
    )
    return cursor.rowcount == 1


# --- managing an account (the CLI and the admin's kiosk page), each act audited ---------------

class AccountRefused(Refused):
    """A management act the cart refuses (codes in agent/api/errors.py)."""


@dataclass(frozen=True)
class AccountView:
    """An account as the admin's page lists it: never its password or its one-time-code secret."""

    login: str
    display_name: str
    role: Role
    disabled: bool
    sessions: int  # open sessions (kiosk screens where the person is logged in or locked)
    created_at: str
    idnat: str | None = None  # the national identifier of the CPS card that logs them in
    email: str | None = None  # where their email and SMS login codes go
    mobile: str | None = None


def has_active(db: Database, role: Role) -> bool:
    """Whether an enabled account of this role exists (a new cart has none)."""
    return db.execute("SELECT 1 FROM users WHERE role = ? AND disabled = 0 LIMIT 1", [role.value]).fetchone() is not None


def overview(db: Database, now: float) -> list[AccountView]:
    rows = db.query(
        """SELECT u.login, u.display_name, u.role, u.disabled, u.created_at, u.idnat, u.email, u.mobile,
                  (SELECT count(*) FROM sessions s WHERE s.user_id = u.id AND s.expires_at > ?) AS sessions
           FROM users u ORDER BY u.disabled, u.login""", [now])
    return [AccountView(r["login"], r["display_name"], Role(r["role"]), bool(r["disabled"]), r["sessions"], r["created_at"], r["idnat"],
                        r["email"], r["mobile"]) for r in rows]


def set_contacts(db: Database, login: str, email: str | None, mobile: str | None, by: str) -> None:
    """The staff member's own email and mobile: where a login code goes when they ask for one."""
    row = _account(db, login)
    db["users"].update(row["id"], {"email": email, "mobile": mobile})
    db.execute("DELETE FROM login_codes WHERE user_id = ?", [row["id"]])  # a code on its way to the old address dies
    audit.append(db, audit.AuditEvent(actor=by, action="account.contacts", detail=login))


def link_card(db: Database, login: str, idnat: str | None, by: str) -> None:
    """The CPS card whose certificate carries `idnat` logs this account in (None: no card any more).
    One card, one account: a card already linked elsewhere is refused, naming that account."""
    row = _account(db, login)
    if idnat is not None:
        other = db.execute("SELECT login FROM users WHERE idnat = ? AND id != ?", [idnat, row["id"]]).fetchone()
        if other:
            raise AccountRefused("card_already_linked", other=other[0])
    db["users"].update(row["id"], {"idnat": idnat})
    if idnat is None:
        db.execute("UPDATE sessions SET card = NULL WHERE user_id = ?", [row["id"]])
    detail = f"{login} : carte CPS {idnat}" if idnat else f"{login} : plus de carte CPS"
    audit.append(db, audit.AuditEvent(actor=by, action="account.card", detail=detail))


def refuse_lockout(login: str, acting: str) -> None:
    """An admin does not disable themself from the kiosk: another admin (or the CLI on the cart)
    must be left able to give accounts back, so the acting admin, enabled, always remains."""
    if login == acting:
        raise AccountRefused("account_self")


def _account(db: Database, login: str) -> dict:
    rows = list(db.query("SELECT * FROM users WHERE login = ?", [login]))
    if not rows:
        raise AccountError(f"no account '{login}'")
    return rows[0]


def end_sessions(db: Database, login: str, by: str) -> int:
    """Log the person out everywhere (a lost badge, a stolen phone); returns how many sessions ended."""
    row = _account(db, login)
    ended = db.execute("DELETE FROM sessions WHERE user_id = ?", [row["id"]]).rowcount
    audit.append(db, audit.AuditEvent(actor=by, action="account.logout_all", detail=f"{login} : {ended} session(s) fermée(s)"))
    return ended


def set_disabled(db: Database, login: str, disabled: bool, by: str) -> None:
    """A disabled account logs in nowhere and its sessions end at once; enabling gives it back."""
    row = _account(db, login)
    db["users"].update(row["id"], {"disabled": int(disabled)})
    if disabled:
        db.execute("DELETE FROM sessions WHERE user_id = ?", [row["id"]])
    audit.append(db, audit.AuditEvent(actor=by, action="account.disable" if disabled else "account.enable", detail=login))


def reset_password(db: Database, login: str, password: str, by: str) -> None:
    """A new password (checked like a first one); the old sessions end."""
    row = _account(db, login)
    db["users"].update(row["id"], {"password_hash": hash_password(password)})
    db.execute("DELETE FROM sessions WHERE user_id = ?", [row["id"]])
    audit.append(db, audit.AuditEvent(actor=by, action="account.password_reset", detail=login))


def reenroll_otp(db: Database, login: str, by: str) -> NewAccount:
    """A new one-time-code secret (a lost phone): the old authenticator stops working, sessions end."""
    row = _account(db, login)
    secret = otp.new_secret()
    db["users"].update(row["id"], {"otp_secret": keys_of(db).seal(secret), "otp_last_step": 0})  # steps of the old secret mean nothing to the new
    db.execute("DELETE FROM sessions WHERE user_id = ?", [row["id"]])
    audit.append(db, audit.AuditEvent(actor=by, action="account.otp_reenroll", detail=login))
    return NewAccount(principal_of(row), secret)
