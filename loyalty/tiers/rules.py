"""Pure decisions about the tier ladder (no Flask, SQLAlchemy or marshmallow)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


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
        seen: set = set()
        for index, value in enumerate(values):
            if value in seen:
                add(f"tiers.{index}.{field}", f"`{value}` appears twice; each tier needs its own {field}.")
            seen.add(value)
    by_rank = sorted(enumerate(rungs), key=lambda pair: pair[1].rank)
    if by_rank[0][1].threshold != 0:
        add(f"tiers.{by_rank[0][0]}.threshold", "The lowest tier's threshold must be 0: every member is on it.")
    for (_, lower), (index, higher) in zip(by_rank, by_rank[1:]):
        if higher.rank != lower.rank and higher.threshold <= lower.threshold:
            add(f"tiers.{index}.threshold", f"Must be above {lower.code}'s {lower.threshold}: thresholds rise with rank.")
    for index, rung in enumerate(rungs):
        if rung.earn_multiplier < 1:
            add(f"tiers.{index}.earn_multiplier", "Must be at least 1: a tier never earns less than no tier.")
        if not 0 <= rung.discount_percent <= 100:
            add(f"tiers.{index}.discount_percent", "Must be between 0 and 100.")
    return errors
