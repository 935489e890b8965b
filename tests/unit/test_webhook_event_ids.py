"""Event ids that must follow one another within one millisecond (loyalty/webhooks/outbox.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from loyalty.core.ids import after, new_id

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
    following = after(identifier, by=by)
    assert following > identifier and following.startswith("evt_") and len(following) == len(identifier)
    assert after(identifier, by=by + 1) > following


def test_a_fresh_id_has_the_shape_after_works_on():
    identifier = new_id("evt")
    assert after(identifier) > identifier and len(after(identifier)) == len(identifier)
