from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from loyalty.insights import rules

NOW = datetime(2026, 11, 24, tzinfo=UTC)
ORDER = ["new", "active", "at_risk", "lapsed"]


@given(st.integers(1, 50), st.integers(0, 1000), st.integers(0, 400), st.integers(0, 400))
def test_waiting_longer_never_makes_a_member_look_more_engaged(orders, span, since, more):
    last = NOW - timedelta(days=since)
    first = last - timedelta(days=span if orders > 1 else 0)
    earlier = rules.stage(first=first, last=last, orders=orders, now=NOW)
    later = rules.stage(first=first, last=last, orders=orders, now=NOW + timedelta(days=more))
    rank = lambda s: 1 if s in ("new", "active") else ORDER.index(s)  # noqa: E731 (new ages into active)
    assert rank(later) >= rank(earlier)
    risk_now = rules.churn_risk(first=first, last=last, orders=orders, now=NOW)
    risk_later = rules.churn_risk(first=first, last=last, orders=orders, now=NOW + timedelta(days=more))
    assert 0 <= risk_now <= risk_later <= 1
    if later == "lapsed":
        assert risk_later == 1


def test_no_orders_is_a_prospect_with_no_risk():
    assert rules.stage(first=None, last=None, orders=0, now=NOW) == "prospect"
    assert rules.churn_risk(first=None, last=None, orders=0, now=NOW) == 0
