"""What opens a link someone outside the cart received: a one-time code sent to their own phone
(or email), and the tokens handed out, as the database keeps them.

Used by the specialist's invitation link (agent/specialist_access.py) and by a document sent to a
patient (agent/patient_share.py): six digits, valid ten minutes, five tries, a new one at most
every 30 seconds; stored as a digest bound to what the code opens, never in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from agent.refusal import CountedRefusal

CODE_SECONDS = 10 * 60
RESEND_SECONDS = 30
MAX_ATTEMPTS = 5


class CodeRefused(CountedRefusal):
    """Too soon for a new code, or a code wrong, expired or used up. Counted: the wrong try and its
    audit record commit with the refusal, so the five tries really are five."""


def token_digest(token: str) -> str:
    """A handed-out token as stored: a stolen database holds no usable token."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _digest(scope: str, code: str) -> str:
    return hashlib.sha256(f"{scope}:{code}".encode()).hexdigest()


@dataclass(frozen=True)
class Issued:
    code: str  # for the message only; never stored
    digest: str
    sent_at: float
    expires_at: float


def issue(scope: str, now: float, last_sent_at: float | None) -> Issued:
    """A new code for `scope` (what it opens), unless the last one went out less than 30 s ago."""
    if last_sent_at and now - last_sent_at < RESEND_SECONDS:
        raise CodeRefused("code_too_soon", seconds=int(RESEND_SECONDS - (now - last_sent_at)) + 1)
    code = f"{secrets.randbelow(10**6):06d}"
    return Issued(code, _digest(scope, code), now, now + CODE_SECONDS)


def matches(scope: str, typed: str, digest: str | None, expires_at: float | None, attempts: int, now: float) -> bool:
    """Whether `typed` is the live code; CodeRefused("code_expired") when there is none left to try.
    On False the caller counts the attempt, then raises `wrong(attempts)`."""
    if not digest or now >= (expires_at or 0) or attempts >= MAX_ATTEMPTS:
        raise CodeRefused("code_expired")
    return hmac.compare_digest(digest, _digest(scope, typed.strip()))


def wrong(attempts: int) -> CodeRefused:
    """The refusal of a wrong code, `attempts` being the failures before this one."""
    return CodeRefused("code_wrong", left=MAX_ATTEMPTS - attempts - 1)
