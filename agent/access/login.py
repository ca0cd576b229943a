"""The password + one-time code way in (the seed's "authentification forte"): the code of the
authenticator app, or one sent by SMS or email on request (staff_codes.py).

Checking a password costs ~50 ms of Argon2 on purpose, so it runs off the store thread:
`verify_credentials` is pure CPU work, `conclude` then records the outcome in one transaction
(failure count and lockout, one-time code consumed, audit record, session), re-checking what may
have changed meanwhile (a concurrent login with the same code loses).
A CPS card or Pro Santé Connect authenticator will produce the same `Principal` and reuse
`conclude`'s bookkeeping with its own method name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlite_utils import Database

from agent import audit
from agent.access import accounts, otp, sessions, staff_codes, throttle
from agent.access.accounts import Principal
from agent.access.passwords import verify_password
from agent.access.rate_limits import LOOPBACK

METHOD_PASSWORD_OTP = "password+otp"
METHOD_PASSWORD_SMS = "password+sms"
METHOD_PASSWORD_EMAIL = "password+email"
METHOD_CPS = "cps"
METHOD_PSC = "psc"
METHOD_LABELS_FR = {METHOD_PASSWORD_OTP: "mot de passe + code à usage unique", METHOD_PASSWORD_SMS: "mot de passe + code reçu par SMS",
                    METHOD_PASSWORD_EMAIL: "mot de passe + code reçu par e-mail", METHOD_CPS: "carte CPS + code porteur",
                    METHOD_PSC: "Pro Santé Connect (e-CPS)"}
BY_CHANNEL = {"sms": METHOD_PASSWORD_SMS, "email": METHOD_PASSWORD_EMAIL}


@dataclass(frozen=True)
class LoginPolicy:
    max_failed: int
    lockout_seconds: float
    otp_window: int
    session_seconds: float


class Refusal(StrEnum):
    BAD_CREDENTIALS = "bad_credentials"
    REPLAYED_CODE = "replayed_code"
    ACCOUNT_LOCKED = "account_locked"
    TECHNICIAN_ONLY = "technician_only"


@dataclass(frozen=True)
class Outcome:
    principal: Principal | None = None
    refusal: Refusal | None = None
    retry_after: float | None = None  # seconds until a locked account opens again
    token: str | None = None
    session: sessions.Session | None = None


@dataclass(frozen=True)
class Checked:
    """What the CPU-bound checks found: the password right, and the authenticator's time step the
    code matches (None: it may still be a code sent by SMS or email, checked in `conclude`)."""

    password_ok: bool
    step: int | None = None


def verify_credentials(row: dict | None, password: str, code: str, window: int, now: float) -> Checked:
    """Always pays the password hash, known login or not, so timing does not reveal accounts."""
    password_ok = verify_password(row["password_hash"] if row else None, password)
    if not (password_ok and row):
        return Checked(False)
    return Checked(True, otp.matching_step(row["otp_secret"], code, window, now))


def _actor(login: str) -> str:
    return "".join(ch for ch in login[:40] if ch.isprintable()) or "?"


def conclude(
    db: Database,
    attempted_login: str,
    checked: Checked,
    typed_code: str,
    remote_addr: str | None,
    policy: LoginPolicy,
    now: float,
    action: str = "login",
    session_id: str | None = None,
    roles: frozenset[str] | None = None,
) -> Outcome:
    """Record a login (or unlock, when `session_id` is given) attempt; opens or unlocks the session.
    `roles`: the only roles this door lets in (the technician's page on the network)."""
    row = accounts.find_by_login(db, attempted_login)
    name = _actor(attempted_login)

    def refuse(refusal: Refusal, detail: str, retry_after: float | None = None) -> Outcome:
        audit.append(
            db,
            audit.AuditEvent(
                actor=name, role=row["role"] if row else None, action=action,
                outcome=audit.DENIED if refusal is Refusal.ACCOUNT_LOCKED else audit.FAILURE,
                remote_addr=remote_addr, detail=detail,
            ),
        )
        return Outcome(refusal=refusal, retry_after=retry_after)

    # Failures from the network lock the network only: nobody outside can lock the nurse out of
    # the cart's own screen (loopback), where the kiosk logs in.
    key = name if remote_addr in LOOPBACK else f"{name} (réseau)"
    wait = throttle.locked_for(db, key, now)
    if wait is not None:
        return refuse(Refusal.ACCOUNT_LOCKED, "compte verrouillé", wait)

    def fail(refusal: Refusal, detail: str) -> Outcome:
        if throttle.register_failure(db, key, now, policy.max_failed, policy.lockout_seconds):
            return refuse(Refusal.ACCOUNT_LOCKED, f"{detail} ; compte verrouillé", policy.lockout_seconds)
        return refuse(refusal, detail)

    if row is None:
        return fail(Refusal.BAD_CREDENTIALS, "identifiant inconnu")
    if not checked.password_ok:
        return fail(Refusal.BAD_CREDENTIALS, "mot de passe ou code erroné")
    if checked.step is not None:
        if not accounts.consume_code_step(db, row["id"], checked.step):
            return fail(Refusal.REPLAYED_CODE, "code à usage unique déjà utilisé")
        method = METHOD_PASSWORD_OTP
    else:  # a code sent by SMS or email to this account, erased once used
        channel = staff_codes.consume(db, row["id"], typed_code, now)
        if channel is None:
            return fail(Refusal.BAD_CREDENTIALS, "mot de passe ou code erroné")
        method = BY_CHANNEL[channel]
    throttle.clear(db, key)
    if roles is not None and row["role"] not in roles:  # right credentials at a door not theirs: no session
        return refuse(Refusal.TECHNICIAN_ONLY, "page technicien : réservée aux comptes technicien")

    principal = accounts.principal_of(row)
    token = session = None
    if session_id is None:
        token, session = sessions.open_session(db, principal, method, remote_addr, now, policy.session_seconds)
    else:
        sessions.unlock(db, session_id, now)
    audit.append(
        db,
        audit.AuditEvent(actor=principal.login, role=principal.role.value, action=action, remote_addr=remote_addr, detail=METHOD_LABELS_FR[method]),
    )
    return Outcome(principal=principal, token=token, session=session)
