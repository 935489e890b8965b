from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from loyalty.tiers.rules import Rung, ladder_errors


def rung(code, rank, threshold, discount="0", multiplier="1"):
    return Rung(code, rank, Decimal(threshold), Decimal(discount), Decimal(multiplier))


DEMO = [
    rung("regular", 0, "0"),
    rung("silver", 1, "2000", "3", "1.2"),
    rung("gold", 2, "8000", "5", "1.5"),
    rung("vip", 3, "30000", "10", "2"),
]


def test_a_sound_ladder_has_no_errors_in_any_order():
    assert ladder_errors(DEMO) == {}
    assert ladder_errors(list(reversed(DEMO))) == {}


def test_each_fault_is_named():
    assert "tiers" in ladder_errors([])
    assert "tiers.1.code" in ladder_errors([rung("a", 0, "0"), rung("a", 1, "5")])
    assert "tiers.1.rank" in ladder_errors([rung("a", 0, "0"), rung("b", 0, "5")])
    assert "tiers.0.threshold" in ladder_errors([rung("a", 0, "1"), rung("b", 1, "5")])
    assert "tiers.1.threshold" in ladder_errors([rung("a", 0, "0"), rung("b", 1, "0")])
    assert "tiers.1.threshold" in ladder_errors([rung("a", 0, "0"), rung("c", 2, "5"), rung("b", 1, "9")])
    assert "tiers.0.earn_multiplier" in ladder_errors([rung("a", 0, "0", multiplier="0.9")])
    assert "tiers.0.discount_percent" in ladder_errors([rung("a", 0, "0", discount="101")])


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=8, unique=True))
def test_strictly_rising_thresholds_from_zero_are_always_sound(raw):
    thresholds = sorted({0, *raw})
    ladder = [rung(f"t{i}", i, str(t)) for i, t in enumerate(thresholds)]
    assert ladder_errors(ladder) == {}


@given(st.lists(st.integers(0, 100), min_size=2, max_size=6))
def test_any_threshold_not_above_the_one_below_is_refused(raw):
    ladder = [rung(f"t{i}", i, str(t if i else 0)) for i, t in enumerate(raw)]
    rising = all(b > a for a, b in zip([0] + raw[1:], raw[1:])) and (len(raw) < 2 or raw[1] > 0)
    assert (ladder_errors(ladder) == {}) == rising


# --- grading -----------------------------------------------------------------------------------
from datetime import UTC, datetime, timedelta  # noqa: E402

from loyalty.tiers import rules  # noqa: E402
from loyalty.tiers.rules import Standing  # noqa: E402

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
LATER = rules.add_months(NOW, 12)
CODES = [r.code for r in DEMO]
values = st.decimals(min_value=0, max_value=100000, places=2)
instants = st.one_of(st.none(), st.integers(-800, 800).map(lambda d: NOW + timedelta(days=d)))
standings = st.builds(
    Standing, st.sampled_from(CODES), instants, st.one_of(st.none(), st.sampled_from(CODES)), instants
)


def rank(code):
    return rules.rung_of(DEMO, code).rank


@given(values)
def test_the_qualified_rung_is_the_highest_threshold_reached(value):
    reached = rules.qualified_rung(DEMO, value)
    assert reached.threshold <= value
    assert all(r.threshold > value for r in DEMO if r.rank > reached.rank)


@given(standings, values)
def test_an_order_never_lowers_the_earned_tier_and_upgrades_to_exactly_what_is_reached(standing, value):
    verdict = rules.upgrade(DEMO, standing, value, now=NOW, retention_end=LATER)
    reached = rules.qualified_rung(DEMO, value)
    assert rank(verdict.standing.earned) == max(rank(standing.earned), reached.rank)
    if verdict.reason == "qualified":
        assert verdict.standing.kept_until == LATER
    else:
        assert verdict.standing == standing


@given(standings, values)
def test_the_review_moves_down_at_most_one_step_and_only_after_retention(standing, value):
    verdict = rules.review(DEMO, standing, value, now=NOW, retention_end=LATER)
    before, after = rank(standing.earned), rank(verdict.standing.earned)
    assert after >= before - 1
    if after < before:
        assert standing.kept_until is not None and standing.kept_until <= NOW
        assert rules.qualified_rung(DEMO, value).rank < before and verdict.reason == "retention_ended"
    if standing.kept_until is not None and standing.kept_until > NOW:
        assert after >= before  # inside retention nothing goes down, whatever the value (refunds)


@given(standings, values)
def test_a_second_review_at_the_same_moment_changes_nothing(standing, value):
    once = rules.review(DEMO, standing, value, now=NOW, retention_end=LATER).standing
    twice = rules.review(DEMO, once, value, now=NOW, retention_end=LATER)
    assert twice.standing == once and twice.reason is None


@given(standings)
def test_the_tier_held_is_never_below_the_earned_one_and_a_live_floor_lifts_it(standing):
    held = rules.effective(DEMO, standing, now=NOW)
    assert held.rank >= rank(standing.earned)
    if standing.floor and (standing.floor_until is None or standing.floor_until > NOW):
        assert held.rank >= rank(standing.floor)
    else:
        assert held.code == rules.rung_of(DEMO, standing.earned).code


@given(values)
def test_progress_names_the_next_rung_and_what_is_missing(value):
    held = rules.qualified_rung(DEMO, value)
    above, missing = rules.progress(DEMO, held, value)
    if held.code == "vip":
        assert above is None and missing == 0
    else:
        assert above.rank == held.rank + 1 and missing == above.threshold - value > 0


def test_months_are_added_calendar_wise():
    assert rules.add_months(datetime(2024, 2, 29, tzinfo=UTC), 12) == datetime(2025, 2, 28, tzinfo=UTC)
    assert rules.add_months(datetime(2026, 1, 31, tzinfo=UTC), -2) == datetime(2025, 11, 30, tzinfo=UTC)


@given(st.one_of(st.none(), standings), st.sampled_from(CODES + ["gone", None]), values)
def test_the_cheap_check_skips_only_members_the_review_leaves_alone(standing, held, value):
    if not rules.may_change(rules.index(DEMO), held, standing, value, now=NOW):
        before = standing or Standing(rules.rung_of(DEMO, held).code)
        verdict = rules.review(DEMO, before, value, now=NOW, retention_end=LATER)
        assert verdict.standing == before and verdict.reason is None
        assert rules.effective(DEMO, verdict.standing, now=NOW).code == held


# --- merging two members' standings -------------------------------------------------------------
def live_floor_rank(standing):
    alive = standing.floor and (standing.floor_until is None or standing.floor_until > NOW)
    return rank(standing.floor) if alive else None


@given(standings, standings)
def test_a_merge_keeps_the_higher_earned_tier_with_its_review_date(mine, theirs):
    joined = rules.merged(DEMO, mine, theirs, now=NOW)
    assert rank(joined.earned) == max(rank(mine.earned), rank(theirs.earned))
    kept_from = theirs if rank(theirs.earned) > rank(mine.earned) else mine  # a tie keeps the survivor's
    assert (joined.earned, joined.kept_until) == (kept_from.earned, kept_from.kept_until)


@given(standings, standings)
def test_a_merge_keeps_the_higher_running_floor_and_drops_ended_ones(mine, theirs):
    joined = rules.merged(DEMO, mine, theirs, now=NOW)
    running = [r for r in (live_floor_rank(mine), live_floor_rank(theirs)) if r is not None]
    if running:
        assert rank(joined.floor) == max(running)
        assert joined.floor_until is None or joined.floor_until > NOW
    else:
        assert joined.floor is None and joined.floor_until is None


@given(standings, standings)
def test_a_merge_never_costs_the_survivor_a_tier_either_member_held(mine, theirs):
    held = rules.effective(DEMO, rules.merged(DEMO, mine, theirs, now=NOW), now=NOW).rank
    assert held == max(rules.effective(DEMO, mine, now=NOW).rank, rules.effective(DEMO, theirs, now=NOW).rank)


@given(standings, standings)
def test_which_member_survives_changes_no_rank(mine, theirs):
    one, other = rules.merged(DEMO, mine, theirs, now=NOW), rules.merged(DEMO, theirs, mine, now=NOW)
    assert rank(one.earned) == rank(other.earned)
    assert live_floor_rank(one) == live_floor_rank(other)
