"""What a card's PKCS#11 process tells the agent: its errors (French, for the person at the cart),
the PIN's state, the card's key. Apart from token.py so that the agent, which only reads these,
never loads python-pkcs11 (the module runs in a process of its own per card, token_process.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509


class TokenError(Exception):
    """What went wrong, in French, for the person at the cart."""


class ModuleUnavailable(TokenError):
    pass


class NoCardToken(TokenError):
    pass


class PinWrong(TokenError):
    pass


class PinBlocked(TokenError):
    pass


class CardGone(TokenError):
    pass


@dataclass(frozen=True)
class PinState:
    """What the card says of its PIN counter (PKCS#11 token flags). Cards differ in what they set:
    the agent keeps its own count beside it (agent/access/card_login.py)."""

    count_low: bool = False
    final_try: bool = False
    locked: bool = False


@dataclass(frozen=True)
class CardKey:
    certificate: x509.Certificate
    key_id: bytes
