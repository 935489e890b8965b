"""Reading one order line of an import file (pure): the API's limits, the import's stable reject codes.

Every rejection is a code a shop can look up in the README ("### Orders"); the checks are the
order API's (orders/schemas.py): the same id pattern, amounts, quantities, channels and currencies.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Protocol, overload
from zoneinfo import ZoneInfo

from loyalty.core.ids import luhn_valid
from loyalty.core.money import CURRENCIES
from loyalty.members.identity import InvalidIdentifier, normalise_email, normalise_phone

# The member may be named by any one of these; when a row fills several, the first here wins.
IDENTIFIERS = ("external_id", "member_number", "email", "phone")
ORDER_FIELDS = ("currency", "channel", "store", "shipping", "tax", "refunded_amount")
COLUMNS = (
    "order_id",
    *IDENTIFIERS,
    "placed_at",
    "sku",
    "category",
    "quantity",
    "unit_price",
    "discount",
    *ORDER_FIELDS,
)

CHANNELS = ("online", "pos")  # orders/schemas.CHANNELS (a unit test keeps them equal)
MAX_LINES = 500  # an order of the API carries at most 500 items
CLOCK_SKEW = timedelta(minutes=5)  # orders/basket.CLOCK_SKEW: "now" on another machine may differ that much
_ID = re.compile(r"^[\x21-\x7e]{1,100}$")
_MONEY = re.compile(r"^[0-9]{1,13}(\.[0-9]{1,4})?$")  # stored to 4 places, at most 10^12 (orders/schemas._MONEY)
_MAX_MONEY = Decimal("1e12")
_QUANTITY = re.compile(r"^[0-9]{1,7}$")
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f]")


class Rejected(ValueError):
    """A row that can't go in; `code` is what the reject file's `reason` column starts with."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# What each code means, after the code in the reject file ("code: detail"), so a shop can fix the row.
DETAILS = {
    "missing_order_id": "every line needs its order's id",
    "invalid_order_id": "1-100 printable ASCII characters without spaces",
    "missing_member": "one of external_id, member_number, email or phone names the member",
    "invalid_email": "not an email address",
    "invalid_phone": "not a phone number (national numbers are read in the program's country)",
    "invalid_member_number": "12 digits with a valid check digit",
    "invalid_external_id": "1-100 printable ASCII characters without spaces",
    "unknown_member": "no member has this identifier (import the members first)",
    "missing_placed_at": "every line needs its order's placed_at",
    "invalid_placed_at": "an ISO 8601 date or instant between 1970 and 2999",
    "future_placed_at": "placed_at is in the future",
    "missing_sku": "every line needs a sku",
    "invalid_sku": "at most 100 characters, no control characters",
    "invalid_category": "at most 50 characters, no control characters",
    "missing_quantity": "every line needs a quantity",
    "invalid_quantity": "a whole number from 1 to 1000000",
    "missing_unit_price": "every line needs a unit_price",
    "invalid_unit_price": "a decimal amount like 12.50 (at most 4 places, up to 10^12)",
    "invalid_discount": "a decimal amount like 12.50 (at most 4 places, up to 10^12)",
    "discount_exceeds_line": "the discount is larger than quantity x unit_price",
    "invalid_currency": "an ISO 4217 code such as CNY",
    "invalid_channel": "online or pos",
    "invalid_store": "at most 100 characters, no control characters",
    "invalid_shipping": "a decimal amount like 12.50 (at most 4 places, up to 10^12)",
    "invalid_tax": "a decimal amount like 12.50 (at most 4 places, up to 10^12)",
    "invalid_refunded_amount": "a decimal amount like 12.50 (at most 4 places, up to 10^12)",
    "too_many_cells": "more cells than the header has columns",
    "order_lines_disagree": "the order's lines differ in member, placed_at, currency, channel, store, shipping, "
    "tax or refunded_amount",
    "order_has_rejected_line": "another line of this order was rejected; the order goes in whole or not at all",
    "too_many_lines": f"an order has at most {MAX_LINES} lines",
    "refund_exceeds_order": "refunded_amount is more than the order's items after discounts",
    "no_exchange_rate": "the program has no exchange rate for this currency",
    "member_blocked": "the member is blocked: it earns nothing",
    "member_erased": "the member was erased",
    "order_refused": "the order API refuses this order",
}


def reason(code: str) -> str:
    return f"{code}: {DETAILS[code]}" if code in DETAILS else code


@dataclass(frozen=True)
class OrderLine:
    order_id: str
    identifier: tuple[str, str]  # (column, normalised value)
    placed_at: datetime  # UTC
    sku: str
    category: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    currency: str | None
    channel: str | None
    store: str | None
    shipping: Decimal | None
    tax: Decimal | None
    refunded_amount: Decimal | None


def parse_line(values: dict[str, str], *, region: str, zone: str, now: datetime) -> OrderLine:
    """One row as read (stripped cells) -> an order line, or Rejected with the first problem found."""
    order_id = values.get("order_id", "")
    if not order_id:
        raise Rejected("missing_order_id")
    if not _ID.match(order_id):
        raise Rejected("invalid_order_id")
    quantity, unit_price = _quantity(values.get("quantity", "")), _money(values, "unit_price", required=True)
    discount = _money(values, "discount") or Decimal(0)
    if discount > quantity * unit_price:
        raise Rejected("discount_exceeds_line")
    return OrderLine(
        order_id=order_id,
        identifier=identifier(values, region=region),
        placed_at=placed_at(values.get("placed_at", ""), zone=zone, now=now),
        sku=_text(values, "sku", 100, required=True),
        category=_text(values, "category", 50) or "general",
        quantity=quantity,
        unit_price=unit_price,
        discount=discount,
        currency=_currency(values.get("currency", "")),
        channel=_channel(values.get("channel", "")),
        store=_text(values, "store", 100),
        shipping=_money(values, "shipping"),
        tax=_money(values, "tax"),
        refunded_amount=_money(values, "refunded_amount"),
    )


def identifier(values: dict[str, str], *, region: str) -> tuple[str, str]:
    """The member's identifier as the members table stores it (emails lower-cased, phones E.164)."""
    for column in IDENTIFIERS:
        raw = values.get(column, "")
        if not raw:
            continue
        if column == "email":
            return column, _normalised(normalise_email, raw, "invalid_email")
        if column == "phone":
            return column, _normalised(lambda value: normalise_phone(value, region), raw, "invalid_phone")
        if column == "member_number":
            number = raw.replace(" ", "").replace("-", "")
            if len(number) != 12 or not luhn_valid(number):
                raise Rejected("invalid_member_number")
            return column, number
        if not _ID.match(raw):
            raise Rejected("invalid_external_id")
        return column, raw
    raise Rejected("missing_member")


def _normalised(normalise: Callable[[str], str], raw: str, code: str) -> str:
    try:
        return normalise(raw)
    except InvalidIdentifier:
        raise Rejected(code) from None


def placed_at(raw: str, *, zone: str, now: datetime) -> datetime:
    """ISO 8601. An instant with an offset is taken as it is; without one (or a bare date, read as
    that day's midnight) it is the program's local time, as a shop's own export usually means it."""
    if not raw:
        raise Rejected("missing_placed_at")
    try:
        moment = (
            datetime.fromisoformat(raw)
            if "T" in raw or " " in raw
            else datetime.combine(date.fromisoformat(raw), time())
        )
    except ValueError:
        raise Rejected("invalid_placed_at") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise Rejected("invalid_placed_at") from None
    if not 1970 <= moment.year <= 2999:
        raise Rejected("invalid_placed_at")
    if moment > now + CLOCK_SKEW:
        raise Rejected("future_placed_at")
    return moment


def _quantity(raw: str) -> int:
    if not raw:
        raise Rejected("missing_quantity")
    if not _QUANTITY.match(raw) or not 1 <= int(raw) <= 1_000_000:
        raise Rejected("invalid_quantity")
    return int(raw)


@overload
def _money(values: dict[str, str], column: str, *, required: Literal[True]) -> Decimal: ...


@overload
def _money(values: dict[str, str], column: str, *, required: bool = False) -> Decimal | None: ...


def _money(values: dict[str, str], column: str, *, required: bool = False) -> Decimal | None:
    raw = values.get(column, "")
    if not raw:
        if required:
            raise Rejected(f"missing_{column}")
        return None
    if not _MONEY.match(raw):
        raise Rejected(f"invalid_{column}")
    try:
        amount = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern lets only decimals through
        raise Rejected(f"invalid_{column}") from None
    if amount > _MAX_MONEY:
        raise Rejected(f"invalid_{column}")
    return amount


@overload
def _text(values: dict[str, str], column: str, longest: int, *, required: Literal[True]) -> str: ...


@overload
def _text(values: dict[str, str], column: str, longest: int, *, required: bool = False) -> str | None: ...


def _text(values: dict[str, str], column: str, longest: int, *, required: bool = False) -> str | None:
    raw = values.get(column, "")
    if not raw:
        if required:
            raise Rejected(f"missing_{column}")
        return None
    if len(raw) > longest or _INVISIBLE.search(raw):
        raise Rejected(f"invalid_{column}")
    return raw


def _currency(raw: str) -> str | None:
    if not raw:
        return None
    if raw.upper() not in CURRENCIES:
        raise Rejected("invalid_currency")
    return raw.upper()


def _channel(raw: str) -> str | None:
    if not raw:
        return None
    if raw.lower() not in CHANNELS:
        raise Rejected("invalid_channel")
    return raw.lower()


def refund_id(order_id: str) -> str:
    """The refund an imported `refunded_amount` becomes: its own id, stable so a re-run finds it;
    readable when it fits the 100 characters refund ids have, hashed when it doesn't."""
    readable = f"import-refund:{order_id}"
    return readable if len(readable) <= 100 else "import-refund:" + hashlib.sha256(order_id.encode()).hexdigest()


def refund_fits(net_amount: Decimal, refunded: Decimal | None) -> bool:
    """A refund can give back at most the order's goods (shipping and tax are not refunded points)."""
    return refunded is None or refunded <= net_amount


def _amount(value: Decimal) -> Decimal:
    """12.5000 as staged -> 12.50, as a shop would have sent it to the API."""
    value = value.normalize()
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):  # "n", "N", "F": NaN or infinity, which staging never holds
        raise ValueError(f"not a finite amount: {value}")
    return value.quantize(Decimal("0.01")) if exponent > -2 else value


class StagedLine(Protocol):
    """What order_data reads of a staged line (imports/order_staging's rows)."""

    order_id: str
    member_id: str
    placed_at: datetime
    sku: str
    category: str
    quantity: int
    unit_price: Decimal
    discount: Decimal


def order_data(lines: Sequence[StagedLine]) -> dict[str, Any]:
    """The staged lines of one order (which agree on everything order-level) -> the order as the
    API's OrderCreateSchema would have loaded it: defaults filled, optional fields only when given."""
    first = lines[0]

    def given(name: str) -> Any:  # an order-level column: shipping, tax, channel, currency, store
        return next((getattr(line, name) for line in lines if getattr(line, name) is not None), None)

    data: dict[str, Any] = {
        "order_id": first.order_id,
        "member_id": first.member_id,
        "placed_at": first.placed_at,
        "items": [
            {
                "sku": line.sku,
                "category": line.category,
                "quantity": line.quantity,
                "unit_price": _amount(line.unit_price),
                "discount": _amount(line.discount),
            }
            for line in lines
        ],
        "shipping": _amount(given("shipping") or Decimal(0)),
        "tax": _amount(given("tax") or Decimal(0)),
        "channel": given("channel") or "online",
    }
    if given("currency"):
        data["currency"] = given("currency")
    if given("store"):
        data["store_id"] = given("store")
    return data


def goods_amount(data: dict[str, Any]) -> Decimal:
    """Items after their discounts: what a refund can give back at most."""
    return sum((item["quantity"] * item["unit_price"] - item["discount"] for item in data["items"]), Decimal(0))


def refused_code(code: str, fields: dict[str, Any] | None) -> str:
    """The reject code of an order the order service refused (its LoyaltyError code and fields)."""
    if code in ("member_blocked", "member_erased", "order_conflict"):
        return code
    if code == "not_found":
        return "unknown_member"
    if code == "validation_error" and fields and "currency" in fields:
        return "no_exchange_rate"
    return "order_refused"
