from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from loyalty.core.ids import luhn_check_digit, luhn_valid, new_id, new_member_number


def test_known_luhn_numbers():
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert luhn_check_digit("7992739871") == 3


@given(st.integers(min_value=0, max_value=10**11 - 1))
def test_a_check_digit_makes_any_payload_valid(payload):
    digits = f"{payload:011d}"
    assert luhn_valid(digits + str(luhn_check_digit(digits)))


@given(st.text(alphabet="0123456789", min_size=11, max_size=11), st.integers(0, 11), st.integers(1, 9))
def test_any_single_digit_error_is_caught(payload, position, delta):
    number = payload + str(luhn_check_digit(payload))
    wrong = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert not luhn_valid(wrong)


def test_member_numbers_are_12_valid_digits():
    for _ in range(200):
        number = new_member_number()
        assert len(number) == 12 and number[0] != "0" and luhn_valid(number)


def test_ids_sort_by_creation_and_carry_their_prefix():
    ids = [new_id("mbr") for _ in range(50)]
    assert all(i.startswith("mbr_") and len(i) == 30 for i in ids)
    assert len(set(ids)) == 50


def test_non_digits_are_not_valid():
    assert not luhn_valid("12345678901a") and not luhn_valid("") and not luhn_valid("0")
