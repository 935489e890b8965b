"""Event ids that must follow one another within one millisecond (loyalty/webhooks/outbox.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from loyalty.core.ids import after, following, new_id

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def test_the_next_id_sorts_right_after_with_the_same_prefix_and_length():
    assert after("evt_01M7P63TFV0000000000000000") == "evt_01M7P63TFV0000000000000001"
    assert after("evt_01M7P63TFV000000000000000Z") == "evt_01M7P63TFV0000000000000010"  # Crockford carries at Z
    assert after("evt_01M7P63TFV0000000000000000", by=32) == "evt_01M7P63TFV0000000000000010"
    # The random part exhausted: the carry moves into the milliseconds, still sorting after.
    assert after("evt_01M7P63TFVZZZZZZZZZZZZZZZZ") == "evt_01M7P63TFW0000000000000000"


@given(
    body=st.text(alphabet=CROCKFORD, min_size=26, max_size=26).filter(lambda b: b[0] <= "6"),
    by=st.integers(min_value=1, max_value=2**40),
)
def test_any_step_sorts_after_and_keeps_the_shape(body, by):
    identifier = f"evt_{body}"
    stepped = after(identifier, by=by)
    assert stepped > identifier and stepped.startswith("evt_") and len(stepped) == len(identifier)
    assert after(identifier, by=by + 1) > stepped


def test_a_fresh_id_has_the_shape_after_works_on():
    identifier = new_id("evt")
    assert after(identifier) > identifier and len(after(identifier)) == len(identifier)


@given(
    body=st.text(alphabet=CROCKFORD, min_size=26, max_size=26).filter(lambda b: b[0] <= "6"),
    steps=st.lists(st.integers(min_value=1, max_value=2**40), max_size=20),
)
def test_following_is_after_step_by_step(body, steps):
    """A batch's ids (emit_many): the same as stepping with `after` one id at a time."""
    identifier, expected = f"evt_{body}", []
    for step in steps:
        identifier = after(identifier, by=step)
        expected.append(identifier)
    assert following(f"evt_{body}", steps) == expected
