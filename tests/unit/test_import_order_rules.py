"""Reading order lines of an import file (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.imports import order_rules as rules
from loyalty.orders.schemas import CHANNELS
from tests.clock import NOW

GOOD = {
    "order_id": "A-1",
    "external_id": "crm-0001",
    "placed_at": "2025-03-01T10:00:00+08:00",
    "sku": "tea-1",
    "category": "tea",
    "quantity": "2",
    "unit_price": "12.5",
    "discount": "1.00",
}


def parse(**changes):
    return rules.parse_line({**GOOD, **changes}, region="CN", zone="Asia/Shanghai", now=NOW)


def code_of(**changes) -> str:
    with pytest.raises(rules.Rejected) as caught:
        parse(**changes)
    return caught.value.code


def test_a_good_line():
    line = parse()
    assert line.order_id == "A-1" and line.identifier == ("external_id", "crm-0001")
    assert line.placed_at == datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
    assert (line.quantity, line.unit_price, line.discount) == (2, Decimal("12.5"), Decimal("1.00"))
    assert (line.currency, line.channel, line.store, line.shipping, line.tax, line.refunded_amount) == (None,) * 6


def test_defaults_as_the_api_loads_them():
    line = parse(category="", discount="")
    assert (line.category, line.discount) == ("general", Decimal(0))


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"order_id": ""}, "missing_order_id"),
        ({"order_id": "has space"}, "invalid_order_id"),
        ({"order_id": "x" * 101}, "invalid_order_id"),
        ({"external_id": ""}, "missing_member"),
        ({"external_id": "", "email": "not-an-email"}, "invalid_email"),
        ({"external_id": "", "phone": "12"}, "invalid_phone"),
        ({"external_id": "", "member_number": "123456789012"}, "invalid_member_number"),
        ({"placed_at": ""}, "missing_placed_at"),
        ({"placed_at": "yesterday"}, "invalid_placed_at"),
        ({"placed_at": "1969-12-31T00:00:00+00:00"}, "invalid_placed_at"),
        ({"placed_at": "2026-11-18T03:00:00+00:00"}, "future_placed_at"),
        ({"sku": ""}, "missing_sku"),
        ({"sku": "x" * 101}, "invalid_sku"),
        ({"category": "c" * 51}, "invalid_category"),
        ({"quantity": ""}, "missing_quantity"),
        ({"quantity": "0"}, "invalid_quantity"),
        ({"quantity": "1.5"}, "invalid_quantity"),
        ({"quantity": "1000001"}, "invalid_quantity"),
        ({"unit_price": ""}, "missing_unit_price"),
        ({"unit_price": "-1"}, "invalid_unit_price"),
        ({"unit_price": "1.23456"}, "invalid_unit_price"),
        ({"unit_price": "2000000000000"}, "invalid_unit_price"),
        ({"discount": "abc"}, "invalid_discount"),
        ({"discount": "25.01"}, "discount_exceeds_line"),
        ({"currency": "XXY"}, "invalid_currency"),
        ({"channel": "phone"}, "invalid_channel"),
        ({"shipping": "1,5"}, "invalid_shipping"),
        ({"tax": "x"}, "invalid_tax"),
        ({"refunded_amount": "-3"}, "invalid_refunded_amount"),
        ({"store": "bad\x07store"}, "invalid_store"),
    ],
)
def test_each_problem_has_its_code(changes, code):
    assert code_of(**changes) == code
    assert rules.reason(code).startswith(f"{code}: ")  # every code explains itself in the reject file


def test_the_first_identifier_in_the_documented_order_names_the_member():
    line = rules.parse_line(
        {**GOOD, "external_id": "", "email": "Ana@Example.COM", "phone": "13912345678"},
        region="CN",
        zone="Asia/Shanghai",
        now=NOW,
    )
    assert line.identifier == ("email", "ana@example.com")
    line = rules.parse_line(
        {**GOOD, "external_id": "", "phone": "139 1234 5678"}, region="CN", zone="Asia/Shanghai", now=NOW
    )
    assert line.identifier == ("phone", "+8613912345678")


def test_times_without_an_offset_are_the_programs_local_time():
    assert parse(placed_at="2025-03-01 10:00").placed_at == datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
    assert parse(placed_at="2025-03-01").placed_at == datetime(2025, 2, 28, 16, 0, tzinfo=UTC)
    assert parse(placed_at="2026-11-18T02:04:00Z").placed_at.minute == 4  # within the clocks' skew


def test_order_fields_are_normalised():
    line = parse(currency="usd", channel="POS", store="Nanjing Rd")
    assert (line.currency, line.channel, line.store) == ("USD", "pos", "Nanjing Rd")


def test_channels_are_the_apis():
    assert rules.CHANNELS == CHANNELS


def test_refund_ids_fit_their_column_and_are_stable():
    assert rules.refund_id("A-1") == "import-refund:A-1"
    long = rules.refund_id("x" * 100)
    assert len(long) <= 100 and long == rules.refund_id("x" * 100) != rules.refund_id("y" * 100)


def _staged(**values):
    base = dict(
        order_id="A-1",
        member_id="m1",
        placed_at=NOW,
        sku="s",
        category="general",
        quantity=1,
        unit_price=Decimal("12.5000"),
        discount=Decimal("0.0000"),
        currency=None,
        channel=None,
        store=None,
        shipping=None,
        tax=None,
        refunded_amount=None,
    )
    return SimpleNamespace(**{**base, **values})


def test_order_data_takes_order_fields_from_whichever_line_gives_them():
    data = rules.order_data([_staged(), _staged(sku="t", shipping=Decimal("5"), channel="pos", store="S1")])
    assert data == {
        "order_id": "A-1",
        "member_id": "m1",
        "placed_at": NOW,
        "shipping": Decimal("5.00"),
        "tax": Decimal("0.00"),
        "channel": "pos",
        "store_id": "S1",
        "items": [
            {
                "sku": "s",
                "category": "general",
                "quantity": 1,
                "unit_price": Decimal("12.50"),
                "discount": Decimal("0.00"),
            },
            {
                "sku": "t",
                "category": "general",
                "quantity": 1,
                "unit_price": Decimal("12.50"),
                "discount": Decimal("0.00"),
            },
        ],
    }
    assert rules.goods_amount(data) == Decimal("25")


def test_a_refund_gives_back_at_most_the_goods():
    assert rules.refund_fits(Decimal("10"), None) and rules.refund_fits(Decimal("10"), Decimal("10"))
    assert not rules.refund_fits(Decimal("10"), Decimal("10.01"))


@given(st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False))
def test_any_amount_the_api_takes_reads_back_equal(amount):
    assert parse(unit_price=str(amount), discount="0").unit_price == amount


@pytest.mark.parametrize(
    ("code", "fields", "expected"),
    [
        ("member_blocked", None, "member_blocked"),
        ("not_found", None, "unknown_member"),
        ("validation_error", {"currency": ["x"]}, "no_exchange_rate"),
        ("validation_error", {"items": ["x"]}, "order_refused"),
    ],
)
def test_refusals_of_the_order_service_map_to_codes(code, fields, expected):
    assert rules.refused_code(code, fields) == expected
