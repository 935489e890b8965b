from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.referrals import rules
from loyalty.referrals.rules import Caps, FirstOrder, Person

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
REFERRER = Person("mbr_a", "active", "+8613900000001", "lin.mei@gmail.com", "shop-1")
REFEREE = Person("mbr_b", "active", "+8613900000002", "wang@example.com", "shop-2")
KEPT = FirstOrder("o-1", NOW - timedelta(days=20), NOW - timedelta(days=6), False)
NO_CAPS = Caps(None, None)


def judge(**changes):
    args = dict(
        referrer=REFERRER,
        referee=REFEREE,
        referred_at=NOW - timedelta(days=30),
        first=KEPT,
        ordered_before=False,
        now=NOW,
        caps=NO_CAPS,
        rewarded_this_month=0,
        rewarded_ever=0,
    )
    args.update(changes)
    return rules.qualification(**args)


@given(st.text(alphabet=rules.ALPHABET, min_size=8, max_size=8))
def test_codes_are_read_in_any_case_and_with_separators(code):
    assert rules.normalise_code(code.lower()) == code
    assert rules.normalise_code(f" {code[:4]}-{code[4:]} ") == code


@pytest.mark.parametrize(
    "text", [None, "", "ABC", "ABCDEFGH1", "ABCDEFG0", "ABCDEFGO", "ABCDEFGI", "ABCDEFGL", "ABCDEFGHJ", "ABCD EFG!"]
)
def test_what_cannot_be_a_code(text):
    assert rules.normalise_code(text) is None


@pytest.mark.parametrize(
    "a, b",
    [
        ("lin.mei@gmail.com", "linmei+promo@gmail.com"),
        ("LinMei@googlemail.com", "lin.mei@gmail.com"),
        ("wang+a@example.com", "WANG@example.com"),
    ],
)
def test_the_same_mailbox_written_differently(a, b):
    assert rules.canonical_email(a) == rules.canonical_email(b)


def test_dots_matter_where_the_provider_keeps_them():
    assert rules.canonical_email("wang.li@example.com") != rules.canonical_email("wangli@example.com")


@pytest.mark.parametrize(
    "referee",
    [
        Person("mbr_b", phone="+8613900000001"),
        Person("mbr_b", external_id="shop-1"),
        Person("mbr_b", email="linmei+friends@gmail.com"),
        Person("mbr_b", email="l.i.n.m.e.i@googlemail.com"),
        Person("mbr_a"),
    ],
)
def test_self_referral_by_phone_external_id_or_mailbox(referee):
    assert rules.refusal_at_signup(REFERRER, referee) == rules.SELF_REFERRAL


def test_signup_refusals():
    assert rules.refusal_at_signup(None, REFEREE) == rules.UNKNOWN_CODE
    assert rules.refusal_at_signup(Person("mbr_a", "blocked"), REFEREE) == rules.REFERRER_BLOCKED
    assert rules.refusal_at_signup(Person("mbr_a", "suspended"), REFEREE) == rules.REFERRER_SUSPENDED
    assert rules.refusal_at_signup(REFERRER, REFEREE) is None
    assert rules.refusal_at_signup(REFERRER, Person("mbr_c")) is None  # nothing to compare is not a match


def test_a_kept_first_order_qualifies():
    assert judge() == rules.Verdict("qualified", None, "o-1")


def test_waiting_for_an_order_or_for_the_return_window():
    assert judge(first=None).status == "pending"
    assert judge(first=FirstOrder("o-1", NOW, NOW + timedelta(days=1), False)).status == "pending"
    assert judge(first=FirstOrder("o-1", NOW, NOW, False)).status == "qualified"  # the window ends at kept_from


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"ordered_before": True}, rules.REFEREE_HAD_ORDERED),
        ({"first": FirstOrder("o-1", NOW, NOW + timedelta(days=9), True)}, rules.ORDER_REFUNDED),
        ({"referrer": Person("mbr_a", "blocked")}, rules.REFERRER_BLOCKED),
        ({"referrer": Person("mbr_a", "suspended")}, rules.REFERRER_SUSPENDED),
        ({"referee": Person("mbr_b", phone="+8613900000001")}, rules.SELF_REFERRAL),
        ({"referee": Person("mbr_b", "blocked")}, rules.REFEREE_BLOCKED),
        ({"caps": Caps(3, None), "rewarded_this_month": 3}, rules.MONTHLY_CAP),
        ({"caps": Caps(None, 10), "rewarded_ever": 10}, rules.TOTAL_CAP),
        ({"caps": Caps(0, None)}, rules.MONTHLY_CAP),
    ],
)
def test_each_refusal_at_qualification(changes, reason):
    verdict = judge(**changes)
    assert verdict.status == "rejected" and verdict.reason == reason


def test_under_the_caps_still_qualifies():
    assert judge(caps=Caps(3, 10), rewarded_this_month=2, rewarded_ever=9).status == "qualified"


@given(
    st.booleans(),
    st.booleans(),
    st.integers(-30, 30),
    st.sampled_from(["active", "suspended", "blocked"]),
    st.integers(0, 5),
    st.one_of(st.none(), st.integers(0, 5)),
)
def test_only_a_kept_order_of_an_eligible_pair_under_the_caps_qualifies(before, refunded, days, status, done, cap):
    first = FirstOrder("o-1", NOW - timedelta(days=40), NOW + timedelta(days=days), refunded)
    verdict = judge(
        ordered_before=before,
        first=first,
        referrer=Person("mbr_a", status),
        caps=Caps(cap, None),
        rewarded_this_month=done,
    )
    eligible = not before and not refunded and days <= 0 and status == "active" and (cap is None or done < cap)
    assert (verdict.status == "qualified") == eligible
    if verdict.status == "rejected":
        assert verdict.reason in rules.REASONS
