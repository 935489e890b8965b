"""Opaque identifiers and check digits.

Ids are ``<prefix>_`` plus a ULID-like string: 48 bits of milliseconds then 80
random bits in Crockford base32, so they sort by creation time and serve as
keyset-pagination keys.
"""

from __future__ import annotations

import secrets
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    millis = time.time_ns() // 1_000_000
    return f"{prefix}_{_base32(millis, 10)}{_base32(secrets.randbits(80), 16)}"


def after(identifier: str, *, by: int = 1) -> str:
    """The id of the same prefix `by` steps after `identifier` in sort order (ULID's monotonic
    increment, carrying into the milliseconds when the random part runs out): for ids that must
    follow one another where the clock alone can't order them."""
    prefix, _, body = identifier.rpartition("_")
    value = 0
    for char in body:
        value = value * 32 + _CROCKFORD.index(char)
    return f"{prefix}_{_base32(value + by, len(body))}"


def following(identifier: str, steps: list[int]) -> list[str]:
    """Ids of the same prefix, each its step after the one before, the first after `identifier`:
    `after` for a batch's many ids, parsing the start once."""
    prefix, _, body = identifier.rpartition("_")
    value = 0
    for char in body:
        value = value * 32 + _CROCKFORD.index(char)
    made = []
    for step in steps:
        value += step
        made.append(f"{prefix}_{_base32(value, len(body))}")
    return made


def luhn_check_digit(digits: str) -> int:
    """The digit that makes ``digits + d`` pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:  # rightmost payload digit is doubled
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or len(number) < 2:
        return False
    return luhn_check_digit(number[:-1]) == int(number[-1])


def new_member_number() -> str:
    """12 digits, the last a Luhn check digit; random so numbers can't be guessed in sequence."""
    payload = str(secrets.randbelow(9 * 10**10) + 10**10)  # 11 digits, no leading zero
    return payload + str(luhn_check_digit(payload))
