"""INS key checking: known numbers, Corsica, and properties over any number."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.identity.ins import InvalidIns, key_of, parse

# 1 84 12 76 451 089 -> key 46 (the example printed on French social security documentation)
KNOWN = "184127645108946"


def test_a_known_nir_is_accepted_with_spaces() -> None:
    assert str(parse("1 84 12 76 451 089 46")) == KNOWN


def test_a_wrong_key_is_refused_in_french() -> None:
    with pytest.raises(InvalidIns, match="clé"):
        parse(KNOWN[:-2] + "47")


@pytest.mark.parametrize("text", ["18412764510894", "1841276451089466", "584127645108946", "18412X645108946"])
def test_malformed_numbers_are_refused(text: str) -> None:
    with pytest.raises(InvalidIns):
        parse(text)


def test_corsica_counts_2a_as_19_and_2b_as_18() -> None:
    number = "2550 22A 123 456".replace(" ", "")
    assert key_of(number) == f"{97 - int(number.replace('2A', '19')) % 97:02d}"
    assert parse(number + key_of(number)).number == number
    assert key_of("255022A123456") != key_of("255022B123456")
    assert parse("255022b123456" + key_of("255022B123456")).number == "255022B123456"


numbers = st.builds(
    lambda sex, yy, mm, dept, rest: f"{sex}{yy:02d}{mm:02d}{dept}{rest:06d}",
    st.sampled_from("123478"), st.integers(0, 99), st.integers(1, 12),
    st.one_of(st.integers(1, 99).map(lambda d: f"{d:02d}"), st.sampled_from(["2A", "2B"])),
    st.integers(0, 999_999),
)


@given(numbers)
def test_any_number_with_its_key_is_accepted(number: str) -> None:
    assert parse(number + key_of(number)).number == number


@given(numbers, st.integers(1, 96))
def test_any_other_key_is_refused(number: str, shift: int) -> None:
    wrong = f"{(int(key_of(number)) - 1 + shift) % 97 + 1:02d}"
    with pytest.raises(InvalidIns):
        parse(number + wrong)


@given(numbers, st.integers(0, 12), st.integers(1, 9))
def test_a_single_mistyped_digit_is_caught(number: str, position: int, delta: int) -> None:
    """The point of the key: one wrong digit in the number never keeps the same key."""
    if not number[position].isdigit():
        return
    typo = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1:]
    if typo[0] not in "123478":
        return
    with pytest.raises(InvalidIns):
        parse(typo + key_of(number))


def test_digits_of_other_scripts_are_refused() -> None:
    with pytest.raises(InvalidIns):
        parse("1٨٤١٢٧٦٤٥١٠٨٩46")
