"""Turning a checked request into the pure rules' inputs (lines, rate, promotions)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.core.errors import NotFound, ValidationFailed
from loyalty.core.ids import luhn_valid
from loyalty.members.models import Member
from loyalty.points.promotions import active_promotions
from loyalty.points.rules import BasketError, EarnTerms, Line, PromotionRule, check_lines, net_amount
from loyalty.program.service import ProgramSettings

CLOCK_SKEW = timedelta(minutes=5)


def find_member_id(session: Session, data: dict) -> str:
    if data.get("member_id"):
        return data["member_id"]
    number = data["member_number"]
    member_id = session.scalar(select(Member.id).where(Member.member_number == number)) if luhn_valid(number) else None
    if member_id is None:
        raise NotFound(f"No member with number {number}.")
    return member_id


def lines_of(data: dict) -> list[Line]:
    lines = [
        Line(
            sku=i["sku"],
            category=i["category"],
            quantity=i["quantity"],
            unit_price=i["unit_price"],
            discount=i["discount"],
        )
        for i in data["items"]
    ]
    try:
        check_lines(lines)
    except BasketError as error:
        raise ValidationFailed({error.field: [str(error)]}) from None
    return lines


def check_total(data: dict, lines: list[Line]) -> None:
    if "total" in data and data["total"] != net_amount(lines) + data["shipping"] + data["tax"]:
        expected = net_amount(lines) + data["shipping"] + data["tax"]
        raise ValidationFailed(
            {"total": [f"Items after discounts + shipping + tax come to {expected}, not {data['total']}."]}
        )


def check_placed_at(placed_at: datetime, now: datetime) -> None:
    if placed_at > now + CLOCK_SKEW:
        raise ValidationFailed(
            {
                "placed_at": [
                    f"Is in the future: at most {int(CLOCK_SKEW.total_seconds() // 60)} "
                    "minutes after now (the clocks may differ that much)."
                ]
            }
        )


def exchange_rate(program: ProgramSettings, currency: str) -> Decimal:
    if currency == program.currency:
        return Decimal(1)
    rate = (program.exchange_rates or {}).get(currency)
    if rate is None:
        raise ValidationFailed(
            {
                "currency": [
                    f"No exchange rate from {currency} to {program.currency}; "
                    "an admin sets it in the program's exchange_rates."
                ]
            }
        )
    return Decimal(rate)


def promotions_at(session: Session, at: datetime) -> list[PromotionRule]:
    return [rule for rule in active_promotions(session) if rule.starts_at <= at < rule.ends_at]


def earn_terms(
    session: Session, program: ProgramSettings, *, rate: Decimal, multiplier: Decimal, channel: str, placed_at: datetime
) -> EarnTerms:
    return EarnTerms(
        points_per_unit=Decimal(program.points_per_unit),
        exchange_rate=rate,
        tier_multiplier=multiplier,
        promotions=promotions_at(session, placed_at),
        excluded_categories=frozenset(program.excluded_categories or ()),
        channel=channel,
        placed_at=placed_at,
    )


def _canonical(value):
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def fingerprint(data: dict) -> str:
    """What a request means, not how it was written: 128 == "128.00", any offset for the same instant."""
    return hashlib.sha256(json.dumps(_canonical(data), sort_keys=True, default=str).encode()).hexdigest()


def order_fingerprint(data: dict, member_id: str) -> str:
    """`total` is only a check and `member_number` a way to name the member: neither changes the order."""
    meaning = {k: v for k, v in data.items() if k not in ("total", "member_number")}
    return fingerprint({**meaning, "member_id": member_id})


MAX_AMOUNT = Decimal("1e12")
MAX_POINTS = 10**12


def check_size(net: Decimal, program_amount: Decimal, points: int) -> None:
    """Larger than any real order, and than the ledger's columns hold."""
    if net > MAX_AMOUNT or program_amount > MAX_AMOUNT or points > MAX_POINTS:
        raise ValidationFailed({"items": ["The order is too large (amounts up to 10^12, points up to 10^12)."]})
