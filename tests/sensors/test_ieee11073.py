"""IEEE 11073 SFLOAT and FLOAT, with HL7 PHD's examples and the special values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.sensors.ieee11073 import Number, float32, sfloat
from drivers.sensors.readings import DecodeError


@pytest.mark.parametrize("word, expected", [
    (0x0002, Number(2.0, 0)), (0xF014, Number(2.0, 1)), (0xE0C8, Number(2.0, 2)), (0x1002, Number(20.0, 0)),
    (0x0B2E, Number(-1234.0, 0)), (0x07FF, Number(None, 0, "nan")), (0x0800, Number(None, 0, "nres")),
    (0x07FE, Number(None, 0, "+inf")), (0x0802, Number(None, 0, "-inf")), (0x0801, Number(None, 0, "reserved")),
])
def test_sfloat_hl7_examples_and_specials(word: int, expected: Number) -> None:
    assert sfloat(word.to_bytes(2, "little")) == expected


@pytest.mark.parametrize("word, expected", [
    (0xFF000014, Number(2.0, 1)), (0x00FFFB2E, Number(-1234.0, 0)), (0x007FFFFF, Number(None, 0, "nan")),
    (0x00800000, Number(None, 0, "nres")), (0xFE000EB0, Number(37.6, 2)),
])
def test_float_hl7_examples_and_specials(word: int, expected: Number) -> None:
    assert float32(word.to_bytes(4, "little")) == expected


def test_too_short_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        sfloat(b"\x01")
    with pytest.raises(DecodeError):
        float32(b"\x01\x02\x03")


@given(st.binary(max_size=6))
def test_any_bytes_decode_or_raise_the_decoders_error(data: bytes) -> None:
    for decode in (sfloat, float32):
        try:
            decode(data)
        except DecodeError:
            pass
