"""The INS (Identifiant National de Santé): a NIR or NIA, 13 characters and a 2-digit key.

The key is 97 - (number mod 97). Corsica's department codes 2A and 2B count as 19 and 18 in the
number (they replaced 20 in 1976). A NIA (identifier while waiting for a NIR) starts with 7 or 8
and follows the same rule. Pure functions, no I/O: tested with known valid numbers and
hypothesis properties.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SHAPE = re.compile(r"[1-478][0-9]{4}([0-9]{2}|2[AB])[0-9]{8}")  # [0-9], not \d: no Arabic-Indic digits
_CORSICA = {"2A": "19", "2B": "18"}


class InvalidIns(ValueError):
    """The message is French: it is shown to the nurse as it is."""


@dataclass(frozen=True)
class Ins:
    number: str  # 13 characters (digits, or 2A/2B at positions 6-7)
    key: str  # 2 digits

    def __str__(self) -> str:
        return self.number + self.key

    @property
    def is_nia(self) -> bool:
        return self.number[0] in "78"

    @property
    def sex_digit(self) -> str:
        return self.number[0]


def normalise(text: str) -> str:
    """Drop the spaces, dots and dashes people type inside an INS; upper-case 2a/2b."""
    return re.sub(r"[\s.\-]", "", text).upper()


def key_of(number: str) -> str:
    """The 2-digit key of a 13-character NIR/NIA number."""
    digits = number[:5] + _CORSICA.get(number[5:7], number[5:7]) + number[7:]
    return f"{97 - int(digits) % 97:02d}"


def parse(text: str) -> Ins:
    """A checked INS, or InvalidIns with a message a nurse can act on."""
    value = normalise(text)
    if len(value) != 15:
        raise InvalidIns(f"l'INS doit compter 15 caractères (13 plus la clé de 2 chiffres) ; {len(value)} saisis")
    if not _SHAPE.fullmatch(value):
        raise InvalidIns("l'INS ne commence pas par 1, 2, 3, 4, 7 ou 8, ou contient des caractères non autorisés")
    number, key = value[:13], value[13:]
    if key_of(number) != key:
        raise InvalidIns("la clé de l'INS ne correspond pas au numéro : vérifiez la saisie")
    return Ins(number, key)
