"""First boot: a cart with no technician account yet is "en mise en service". Its kiosk shows the
technician's page address, the certificate's fingerprint and a one-time code; with that code, the
technician creates their own account on the page (then logs in with password and authenticator
code, as staff do). The code lives in memory only: a restart shows a new one, and after
`MAX_WRONG` wrong tries it is replaced (the kiosk shows the new one), so that guessing it over the
network is hopeless even before the rate limit."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field

from sqlite_utils import Database

from agent.access import accounts
from agent.access.roles import Role

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a screen and typed on a phone
MAX_WRONG = 5


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _normalised(typed: str) -> str:
    raw = "".join(ch for ch in typed.upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:]}"


def needs_provisioning(db: Database) -> bool:
    """No enabled technician account: only the first-boot code opens the technician's page."""
    return not accounts.has_active(db, Role.TECHNICIAN)


@dataclass
class FirstBootCode:
    code: str = field(default_factory=_new_code)
    wrong: int = 0

    def matches(self, typed: str) -> bool:
        """Whether `typed` is the code; a wrong one counts, and the code changes after MAX_WRONG."""
        if hmac.compare_digest(_normalised(typed).encode(), self.code.encode()):
            return True
        self.wrong += 1
        if self.wrong >= MAX_WRONG:
            self.renew()
        return False

    def renew(self) -> None:
        self.code, self.wrong = _new_code(), 0
