"""Which card is in the reader, from its answer to reset (ATR): bytes in, a kind out, no I/O.

The CPS3 answers `3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00` (measured with the ANS's
test cards by several open-source projects; ../shared/notes/pcsc-here.md). Other generations or
batches answer otherwise: `[card] extra_atrs` adds them without a new release.
"""

from __future__ import annotations

from enum import StrEnum

CPS3_ATRS = (bytes.fromhex("3BAC00402A001225006480000310009000"),)


class CardKind(StrEnum):
    CPS = "cps"
    OTHER = "other"  # a bank card, a Vitale card, a badge: said so, never tried


def parse_atrs(texts: list[str]) -> tuple[bytes, ...]:
    """ATRs as configured ("3B AC 00 …", spaces and colons allowed); ValueError names a bad one."""
    atrs = []
    for text in texts:
        cleaned = text.replace(" ", "").replace(":", "")
        try:
            atrs.append(bytes.fromhex(cleaned))
        except ValueError:
            raise ValueError(f"ATR illisible : {text!r}") from None
    return tuple(atrs)


def kind_of(atr: bytes, extra: tuple[bytes, ...] = ()) -> CardKind:
    return CardKind.CPS if atr in CPS3_ATRS or atr in extra else CardKind.OTHER
