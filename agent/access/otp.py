"""One-time codes (RFC 6238 TOTP, 6 digits, 30 s) through pyotp, with replay protection:
a code is accepted only for a time step later than the last one accepted for that account."""

from __future__ import annotations

import time

import pyotp

ISSUER = "Telecart"
STEP = 30


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, login: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name=ISSUER)


def enrolment_qr(uri: str, scale: int = 5) -> str:
    """The provisioning URI as a QR code (an SVG data URI) for the authenticator app to scan.
    segno is imported here: a QR is drawn when an account is made, not at each start."""
    import segno

    return segno.make(uri, error="m").svg_data_uri(scale=scale, border=2, dark="#111", light="#fff")


def current_code(secret: str) -> str:
    return pyotp.TOTP(secret).now()


def matching_step(secret: str, code: str, window: int, at: float | None = None) -> int | None:
    """The time step `code` belongs to within ±window steps of `at`, or None."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if at is None else at
    here = int(now // STEP)
    for step in range(here - window, here + window + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None
