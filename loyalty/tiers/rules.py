"""Pure decisions about the tier ladder (no Flask, SQLAlchemy or marshmallow)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from loyalty.core.dates import add_months  # noqa: F401  (re-exported: grading counts months with it)


@dataclass(frozen=True)
class Rung:
    code: str
    rank: int
    threshold: Decimal
    discount_percent: Decimal
    earn_multiplier: Decimal


def ladder_errors(rungs: list[Rung]) -> dict[str, list[str]]:
    """Everything wrong with a ladder, judged as a whole; empty when it is sound."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not rungs:
        add("tiers", "A ladder needs at least one tier.")
        return errors
    for field, values in (("code", [r.code for r in rungs]), ("rank", [r.rank for r in rungs])):
        seen: set[Hashable] = set()
        for index, value in enumerate(values):
            if value in seen:
                add(f"tiers.{index}.{field}", f"`{value}` appears twice; each tier needs its own {field}.")
            seen.add(value)
    by_rank = sorted(enumerate(rungs), key=lambda pair: pair[1].rank)
    if by_rank[0][1].threshold != 0:
        add(f"tiers.{by_rank[0][0]}.threshold", "The lowest tier's threshold must be 0: every member is on it.")
    for (_, lower), (index, higher) in zip(by_rank, by_rank[1:]):
        if higher.rank != lower.rank and higher.threshold <= lower.threshold:
            add(
                f"tiers.{index}.threshold",
                f"Must be above {lower.code}'s {lower.threshold}: thresholds rise with rank.",
            )
    for index, rung in enumerate(rungs):
        if rung.earn_multiplier < 1:
            add(f"tiers.{index}.earn_multiplier", "Must be at least 1: a tier never earns less than no tier.")
        if not 0 <= rung.discount_percent <= 100:
            add(f"tiers.{index}.discount_percent", "Must be between 0 and 100.")
    return errors


# --- Grading ---------------------------------------------------------------------------------------
# A member's tier has two parts: the tier *earned* by qualifying (upgraded at once, kept for the
# retention period, then reviewed and lowered one step at a time), and an optional *floor* set by
# staff until a date. The tier the member has is the higher of the two.

RETENTION_MONTHS = 12
QUALIFYING_MONTHS = 12


def by_rank(ladder: Sequence[Rung]) -> list[Rung]:
    # The ladder usually comes sorted already; checking is cheaper than sorting a million times.
    if all(lower.rank < higher.rank for lower, higher in zip(ladder, ladder[1:])):
        return list(ladder)
    return sorted(ladder, key=lambda rung: rung.rank)


def qualified_rung(ladder: list[Rung], value: Decimal) -> Rung:
    """The highest rung whose threshold the qualifying value reaches (the lowest is at 0)."""
    rungs = by_rank(ladder)
    reached = [rung for rung in rungs if value >= rung.threshold]
    return reached[-1] if reached else rungs[0]


def rung_of(ladder: list[Rung], code: str | None) -> Rung:
    """A code's rung; a code the ladder no longer has counts as the lowest rung."""
    rungs = by_rank(ladder)
    return next((rung for rung in rungs if rung.code == code), rungs[0])


def step_down(ladder: list[Rung], rung: Rung) -> Rung:
    lower = [other for other in by_rank(ladder) if other.rank < rung.rank]
    return lower[-1] if lower else rung


def next_rung(ladder: list[Rung], rung: Rung) -> Rung | None:
    return next((other for other in by_rank(ladder) if other.rank > rung.rank), None)


def is_lowest(ladder: list[Rung], rung: Rung) -> bool:
    return by_rank(ladder)[0].rank == rung.rank


@dataclass(frozen=True)
class Standing:
    """Where a member stands; `kept_until` None: nothing to lose (the lowest rung)."""

    earned: str
    kept_until: datetime | None = None
    floor: str | None = None
    floor_until: datetime | None = None


@dataclass(frozen=True)
class Verdict:
    standing: Standing
    reason: str | None  # why the earned tier changed; None when it did not


def upgrade(
    ladder: list[Rung], standing: Standing, value: Decimal, *, now: datetime, retention_end: datetime
) -> Verdict:
    """On an order: move up at once to the highest rung reached; never down."""
    earned = rung_of(ladder, standing.earned)
    reached = qualified_rung(ladder, value)
    if reached.rank <= earned.rank:
        return Verdict(standing, None)
    return Verdict(Standing(reached.code, retention_end, standing.floor, standing.floor_until), "qualified")


def review(
    ladder: list[Rung], standing: Standing, value: Decimal, *, now: datetime, retention_end: datetime
) -> Verdict:
    """The nightly review as of `now`: upgrade when qualified; once the retention period has ended,
    keep the tier another period if still qualified, else go down one step (and keep that one a
    period). A floor that has ended is dropped."""
    verdict = upgrade(ladder, standing, value, now=now, retention_end=retention_end)
    standing = verdict.standing
    floor, floor_until = standing.floor, standing.floor_until
    if floor is not None and floor_until is not None and floor_until <= now:
        floor, floor_until = None, None
    earned, kept_until, reason = rung_of(ladder, standing.earned), standing.kept_until, verdict.reason
    if reason is None and kept_until is not None and kept_until <= now:
        if qualified_rung(ladder, value).rank < earned.rank:
            earned, reason = step_down(ladder, earned), "retention_ended"
        kept_until = None if is_lowest(ladder, earned) else retention_end
    elif kept_until is None and not is_lowest(ladder, earned):
        kept_until = retention_end  # a rung above the lowest always has a review date
    return Verdict(Standing(earned.code, kept_until, floor, floor_until), reason)


def effective(ladder: list[Rung], standing: Standing, *, now: datetime) -> Rung:
    """The tier the member has: the earned one, or the staff floor while it lasts if higher."""
    earned = rung_of(ladder, standing.earned)
    if standing.floor is None or (standing.floor_until is not None and standing.floor_until <= now):
        return earned
    floor = rung_of(ladder, standing.floor)
    return floor if floor.rank > earned.rank else earned


def merged(ladder: list[Rung], mine: Standing, theirs: Standing, *, now: datetime) -> Standing:
    """The standing a merge leaves the survivor (`mine`) with: a merge must not cost a tier, so the
    higher earned tier with its review date, and the higher staff floor still running with its end
    (none if neither runs). On a tie the survivor's own stays."""

    def rank(code: str | None) -> int:
        return rung_of(ladder, code).rank

    earned = theirs if rank(theirs.earned) > rank(mine.earned) else mine
    floors = [s for s in (mine, theirs) if s.floor and (s.floor_until is None or s.floor_until > now)]
    floor = max(floors, key=lambda s: rank(s.floor)) if floors else Standing(earned.earned)
    return Standing(earned.earned, earned.kept_until, floor.floor, floor.floor_until)


def progress(ladder: list[Rung], current: Rung, value: Decimal) -> tuple[Rung | None, Decimal]:
    """The next rung above the tier held and what the qualifying value still lacks to reach it."""
    above = next_rung(ladder, current)
    if above is None:
        return None, Decimal(0)
    return above, max(Decimal(0), above.threshold - value)


@dataclass(frozen=True)
class LadderIndex:
    """The ladder prepared once per batch, so the nightly review can skip, cheaply, the many
    members it would leave as they are."""

    ranks: dict[str, int]  # code -> rank
    lowest: str
    next_threshold: dict[str, Decimal | None]  # code -> the threshold of the rung above (None: the top)


def index(ladder: list[Rung]) -> LadderIndex:
    rungs = by_rank(ladder)
    above = {rung.code: next_rung(rungs, rung) for rung in rungs}
    return LadderIndex(
        {rung.code: rung.rank for rung in rungs},
        rungs[0].code,
        {code: (rung.threshold if rung else None) for code, rung in above.items()},
    )


def may_change(ix: LadderIndex, held: str | None, standing: Standing | None, value: Decimal, *, now: datetime) -> bool:
    """False only when `review` would leave this member exactly as they are."""
    if held is None or held not in ix.ranks:
        return True
    if standing is None:
        standing = Standing(held)
    earned, floor = standing.earned, standing.floor
    if earned not in ix.ranks or (floor is not None and floor not in ix.ranks):
        return True
    if standing.kept_until is None and earned != ix.lowest:
        return True
    if standing.kept_until is not None and standing.kept_until <= now:
        return True
    if floor is not None and standing.floor_until is not None and standing.floor_until <= now:
        return True
    reach = ix.next_threshold[earned]
    if reach is not None and value >= reach:
        return True
    expected = floor if floor is not None and ix.ranks[floor] > ix.ranks[earned] else earned
    return expected != held
