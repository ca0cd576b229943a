"""Password hashes: Argon2id (memory-hard) through argon2-cffi, with its recommended parameters."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the login is unknown, so that an unknown login takes as long as a wrong
    password. Made on first use: hashing at import would slow every start and every command."""
    return _hasher.hash("telecart-timing-equaliser")

MIN_LENGTH = 10


class WeakPassword(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"password must have at least {MIN_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
