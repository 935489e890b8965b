from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.core.errors import InvalidCursor
from loyalty.core.pagination import decode_cursor, encode_cursor
from loyalty.members.identity import InvalidIdentifier, normalise_email, normalise_phone


@pytest.mark.parametrize(
    "raw",
    [
        "13912345678",
        "139 1234 5678",
        "139-1234-5678",
        "+86 139 1234 5678",
        "+8613912345678",
        "(139) 1234-5678",
        "008613912345678",
    ],
)
def test_chinese_mobile_in_any_common_format(raw):
    assert normalise_phone(raw, "CN") == "+8613912345678"


def test_foreign_numbers_need_their_country_code():
    assert normalise_phone("+1 415 555 2671", "CN") == "+14155552671"
    assert normalise_phone("(415) 555-2671", "US") == "+14155552671"


@pytest.mark.parametrize("raw", ["", "12", "hello", "+86 139", "139123456789999"])
def test_invalid_phones(raw):
    with pytest.raises(InvalidIdentifier):
        normalise_phone(raw, "CN")


def test_emails_are_lower_cased():
    assert normalise_email(" Wang.Fang@QQ.COM ") == "wang.fang@qq.com"
    with pytest.raises(InvalidIdentifier):
        normalise_email("wang@")


# What a key column can hold: no NUL, no lone surrogates (the decoder refuses both as forged).
_STORABLE = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)


@given(st.lists(st.one_of(_STORABLE, st.integers(-(2**53), 2**53)), min_size=1, max_size=3))
def test_cursors_round_trip(key):
    assert decode_cursor(encode_cursor(key), len(key)) == key


@given(st.text(max_size=60))
def test_any_garbage_cursor_is_invalid_cursor_never_a_crash(text):
    try:
        decode_cursor(text, 1)
    except InvalidCursor:
        pass
