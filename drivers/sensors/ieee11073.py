"""IEEE 11073-20601 SFLOAT (16 bits: 4-bit exponent, 12-bit mantissa) and FLOAT (32 bits: 8-bit
exponent, 24-bit mantissa), little-endian, as the Bluetooth health profiles carry them. Value =
mantissa × 10^exponent; the exponent is the precision (0xF014 is 2.0, 0xE0C8 is 2.00) and is kept.
Special values (NaN, NRes, ±INF, reserved) come back as `None` with their name.

Sources: HL7 PHD `MderFLOATsandSFLOATs.md` (the examples below), Wireshark's
`epan/ftypes/ftype-ieee-11073-float.c` (the special values).
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.sensors.readings import DecodeError

SFLOAT_SPECIAL = {0x07FF: "nan", 0x0800: "nres", 0x07FE: "+inf", 0x0802: "-inf", 0x0801: "reserved"}
FLOAT_SPECIAL = {0x007FFFFF: "nan", 0x00800000: "nres", 0x007FFFFE: "+inf", 0x00800002: "-inf", 0x00800001: "reserved"}


@dataclass(frozen=True)
class Number:
    value: float | None
    decimals: int  # digits after the point the device meant (0 when the exponent is ≥ 0)
    special: str | None = None  # nan | nres | +inf | -inf | reserved


def _signed(raw: int, bits: int) -> int:
    return raw - (1 << bits) if raw & (1 << (bits - 1)) else raw


def _number(mantissa: int, exponent: int) -> Number:
    value = mantissa * 10.0 ** exponent
    return Number(round(value, max(0, -exponent)), max(0, -exponent))


def _decode(data: bytes, offset: int, size: int, specials: dict[int, str], mantissa_bits: int, name: str) -> Number:
    if len(data) < offset + size:
        raise DecodeError(f"{name} tronqué")
    raw = int.from_bytes(data[offset:offset + size], "little")
    if raw in specials:
        return Number(None, 0, specials[raw])
    mask = (1 << mantissa_bits) - 1
    return _number(_signed(raw & mask, mantissa_bits), _signed(raw >> mantissa_bits, size * 8 - mantissa_bits))


def sfloat(data: bytes, offset: int = 0) -> Number:
    return _decode(data, offset, 2, SFLOAT_SPECIAL, 12, "SFLOAT")


def float32(data: bytes, offset: int = 0) -> Number:
    return _decode(data, offset, 4, FLOAT_SPECIAL, 24, "FLOAT")
