"""`loyalty import orders`: history imported equals the same orders posted through the API on their
own dates; rejects, re-runs, interrupted runs, no webhooks for history."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
import time_machine
from click.testing import CliRunner
from sqlalchemy import func, select

from loyalty.cli import main
from loyalty.imports import order_posting
from loyalty.imports import orders as importer
from loyalty.imports.order_models import ImportOrderLine
from loyalty.imports.run import run as run_import
from loyalty.imports.source import text_of
from loyalty.points.models import LedgerEntry
from loyalty.purchases.models import Order, Refund
from loyalty.scheduler import run_job
from loyalty.tiers.models import TierChange
from loyalty.webhooks.models import OutboxEvent
from loyalty.webhooks.outbox import emit, replaying_history
from tests.api.test_tiers import LADDER
from tests.clock import NOW, today
from tests.factories import balance, create_member, ledger

HEADER = [
    "order_id",
    "external_id",
    "placed_at",
    "sku",
    "category",
    "quantity",
    "unit_price",
    "discount",
    "currency",
    "channel",
    "store",
    "shipping",
    "tax",
    "refunded_amount",
]


def _file(tmp_path, rows, header=HEADER, name="orders.csv"):
    path = tmp_path / name
    path.write_text(text_of([header, *rows]), encoding="utf-8")
    return path


def _import(config, path, rejects=None):
    out, err = io.StringIO(), io.StringIO()
    code = run_import("orders", path, rejects_path=rejects, config=config, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _rejects(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _events(db) -> int:
    with db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(OutboxEvent))


def _at(days: float) -> datetime:
    return (NOW - timedelta(days=days)).replace(microsecond=0)


# A member's history: (order number, days before NOW, lines [(sku, category, qty, price, discount)], refunded)
HISTORY = [
    (1, 800, [("tea-1", "tea", 2, "150.00", "0"), ("cup-1", "ware", 1, "80.00", "10.00")], None),
    (2, 700, [("tea-2", "tea", 10, "120.00", "0")], "300.00"),
    (3, 400, [("tea-3", "tea", 20, "500.00", "100.00")], None),  # silver (2000) before, gold (8000) now
    (4, 200, [("gift-1", "gift", 1, "500.00", "0"), ("tea-1", "tea", 3, "150.00", "0")], None),
    (5, 20, [("tea-4", "tea", 5, "99.90", "0")], "99.90"),
    (6, 3, [("tea-5", "tea", 1, "66.60", "6.60")], None),
]


def _post_through_api(client, auth, member_id):
    for number, days, lines, refunded in HISTORY:
        with time_machine.travel(_at(days), tick=False):
            body = {
                "order_id": f"api-{number}",
                "member_id": member_id,
                "placed_at": _at(days).isoformat(),
                "items": [
                    {"sku": s, "category": c, "quantity": q, "unit_price": p, "discount": d} for s, c, q, p, d in lines
                ],
            }
            response = client.post("/v1/orders", json=body, headers=auth("storefront"))
            assert response.status_code == 201, response.get_json()
            if refunded:
                response = client.post(
                    f"/v1/orders/api-{number}/refunds",
                    headers=auth("storefront"),
                    json={"refund_id": f"r-{number}", "amount": refunded},
                )
                assert response.status_code == 201, response.get_json()


def _history_rows(external_id):
    rows = []
    for number, days, lines, refunded in HISTORY:
        for index, (sku, category, quantity, price, discount) in enumerate(lines):
            order_level = [refunded or ""] if index == 0 else [""]  # given once per order
            rows.append(
                [
                    f"imp-{number}",
                    external_id,
                    _at(days).isoformat(),
                    sku,
                    category,
                    str(quantity),
                    price,
                    discount,
                    "",
                    "",
                    "",
                    "",
                    "",
                    *order_level,
                ]
            )
    # Scattered: the first line of each two-line order goes last, the file is not in time order.
    return [row for row in rows if row[3] not in ("tea-1", "gift-1")] + [
        row for row in reversed(rows) if row[3] in ("tea-1", "gift-1")
    ]


def _comparable(entries, prefix):
    """Entries as they should match: an expiry is written by whichever run finds it due (its time and
    its lot's id differ), everything else to the instant and the source."""
    return sorted(
        (
            e["kind"],
            e["points"],
            e["created_at"] if e["kind"] != "expire" else None,
            e["available_at"],
            e["expires_at"],
            e["source"]["type"],
            (e["source"]["id"] or "").replace(prefix, "#") if e["kind"] != "expire" else None,
        )
        for e in entries
    )


def test_imported_history_equals_the_same_orders_posted_through_the_api_on_their_dates(
    client, auth, db, config, tmp_path
):
    client.patch("/v1/program", json={"expiry_months": 24, "pending_days": 14, "first_order_bonus": 0}, headers=auth())
    assert client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth()).status_code == 200
    with time_machine.travel(_at(900), tick=False):
        through_api = create_member(client, auth)
        imported = create_member(client, auth)
    _post_through_api(client, auth, through_api["id"])
    run_job("points.expire", db=db, config=config, as_of=today())  # as the nightly job would have by now
    events = _events(db)

    code, out, _err = _import(config, _file(tmp_path, _history_rows(imported["external_id"])))

    assert code == 0, out
    assert "import orders: 8 order lines imported, 0 existing, 0 rejected" in out
    assert _events(db) == events  # history sends no webhooks
    mine, theirs = balance(client, auth, imported["id"]), balance(client, auth, through_api["id"])
    assert {**mine, "member_id": None} == {**theirs, "member_id": None}
    assert mine["lifetime_earned"] > 0 and mine["available"] > 0
    with db.unit_of_work() as session:
        # Refund reversals name their refund: r-N through the API, import-refund:imp-N for the import.
        entries_mine = ledger(client, auth, imported["id"])
        entries_theirs = ledger(client, auth, through_api["id"])
        for entry in entries_theirs:
            if entry["source"]["type"] == "refund":
                entry["source"]["id"] = entry["source"]["id"].replace("r-", "import-refund:api-")
        expired = [e for e in entries_mine if e["kind"] == "expire"]
        assert expired, "the order of 800 days ago expired after 24 months"
        assert _comparable(entries_mine, "imp-") == _comparable(entries_theirs, "api-")
        for number, *_rest in HISTORY:
            a, b = session.get(Order, f"api-{number}"), session.get(Order, f"imp-{number}")
            assert (
                a.points_earned,
                a.bonus_points,
                a.tier_after,
                a.available_at,
                a.placed_at,
                a.net_amount,
                a.eligible_amount,
                a.refunded_amount,
                a.points_reversed,
            ) == (
                b.points_earned,
                b.bonus_points,
                b.tier_after,
                b.available_at,
                b.placed_at,
                b.net_amount,
                b.eligible_amount,
                b.refunded_amount,
                b.points_reversed,
            )

        def changes(member_id):
            return [
                (c.from_code, c.to_code, c.reason, c.at)
                for c in session.scalars(
                    select(TierChange).where(TierChange.member_id == member_id).order_by(TierChange.id)
                )
            ]

        assert changes(imported["id"]) == changes(through_api["id"]) and changes(imported["id"])
    tiers = [
        client.get(f"/v1/members/{m['id']}/tier", headers=auth("staff")).get_json() for m in (imported, through_api)
    ]
    for tier, prefix in zip(tiers, ("imp-", "api-")):
        tier["member_id"] = None
        for change in tier["history"]:
            assert change["actor"] == ("import" if prefix == "imp-" else change["actor"])
            change.update(actor=None, source=change["source"].replace(prefix, "#"))
    assert tiers[0] == tiers[1] and tiers[0]["tier"] == "gold"


def test_points_of_an_order_two_years_old_are_expired_and_a_refund_reverses_in_proportion(
    client, auth, db, config, tmp_path
):
    client.patch("/v1/program", json={"expiry_months": 12, "pending_days": 0}, headers=auth())
    member = create_member(client, auth)
    old, recent = _at(730), _at(30)
    path = _file(
        tmp_path,
        [
            ["old-1", member["external_id"], old.isoformat(), "tea", "tea", "1", "300.00", "0", "", "", "", "", "", ""],
            [
                "new-1",
                member["external_id"],
                recent.isoformat(),
                "tea",
                "tea",
                "2",
                "100.00",
                "0",
                "",
                "",
                "",
                "",
                "",
                "50.00",
            ],
        ],
    )
    assert _import(config, path)[0] == 0
    entries = [(e["kind"], e["points"]) for e in ledger(client, auth, member["id"])]
    assert sorted(entries) == sorted([("earn", 300), ("expire", -300), ("earn", 200), ("reversal", -50)])
    assert balance(client, auth, member["id"])["available"] == 150
    with db.unit_of_work() as session:
        order = session.get(Order, "new-1")
        assert (order.refunded_amount, order.points_reversed) == (50, 50)
        refund = session.scalars(select(Refund).where(Refund.order_id == "new-1")).one()
        assert refund.created_at == recent  # refunded on the order's own date
        expire = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "expire")).one()
        assert expire.points == -300
    check = CliRunner().invoke(
        main, ["check"], env={"LOYALTY_DATABASE_URL": config.database_url, "LOYALTY_LOG_JSON": "1"}
    )
    assert check.exit_code == 0, check.output  # the ledger reconciles after an import


def test_no_first_order_bonus_for_history(client, auth, db, config, tmp_path):
    client.patch("/v1/program", json={"first_order_bonus": 100}, headers=auth())
    member = create_member(client, auth)
    path = _file(
        tmp_path,
        [["h-1", member["external_id"], _at(40).isoformat(), "tea", "tea", "1", "10.00", "0", "", "", "", "", "", ""]],
    )
    assert _import(config, path)[0] == 0
    assert [e["kind"] for e in ledger(client, auth, member["id"])] == ["earn"]
    with db.unit_of_work() as session:
        assert session.get(Order, "h-1").bonus_points == 0


def test_bad_rows_go_to_the_reject_file_with_line_and_reason_and_the_rest_goes_in(client, auth, db, config, tmp_path):
    member = create_member(client, auth)
    blocked = create_member(client, auth)
    client.patch(f"/v1/members/{blocked['id']}", json={"status": "blocked"}, headers=auth("staff"))
    ext, when = member["external_id"], _at(10).isoformat()
    rows = [
        ["ok-1", ext, when, "tea", "tea", "1", "10.00", "0", "", "", "", "", "", ""],  # line 2
        ["x-1", "nobody", when, "tea", "tea", "1", "10.00", "0", "", "", "", "", "", ""],  # 3 unknown
        ["x-2", ext, when, "tea", "tea", "0", "10.00", "0", "", "", "", "", "", ""],  # 4 quantity
        ["x-3", ext, (NOW + timedelta(days=2)).isoformat(), "tea", "", "1", "1", "", "", "", "", "", "", ""],  # 5
        ["x-4", ext, when, "tea", "tea", "1", "10.00", "0", "", "", "", "", "", ""],  # 6 disagree
        ["ok-2", ext, when, "tea", "tea", "1", "12.5", "", "", "", "", "", "", ""],  # 7
        ["x-4", ext, _at(11).isoformat(), "cup", "ware", "1", "5.00", "0", "", "", "", "", "", ""],  # 8 disagree
        ["x-5", ext, when, "tea", "tea", "1", "10.00", "0", "", "", "", "", "", ""],  # 9 other line bad
        ["x-5", ext, when, "cup", "ware", "1", "abc", "0", "", "", "", "", "", ""],  # 10 price
        ["x-6", ext, when, "tea", "tea", "1", "10.00", "0", "", "", "", "", "", "20.00"],  # 11 over-refund
        ["x-7", blocked["external_id"], when, "tea", "tea", "1", "10.00", "0", "", "", "", "", "", ""],  # 12
        ["x-8", ext, when, "tea", "tea", "1", "10.00", "0", "XXX", "", "", "", "", ""],  # 13 currency
    ]
    path = _file(tmp_path, rows)
    result = CliRunner().invoke(
        main,
        ["import", "orders", str(path)],
        env={"LOYALTY_DATABASE_URL": config.database_url, "LOYALTY_LOG_JSON": "1"},
    )
    assert result.exit_code == 1, result.output
    assert "import orders: 2 order lines imported, 0 existing, 10 rejected" in result.output
    rejected = _rejects(f"{path}.rejects.csv")
    assert rejected[0] == ["line", "reason", *HEADER]
    reasons = {int(row[0]): row[1].split(":")[0] for row in rejected[1:]}
    assert reasons == {
        3: "unknown_member",
        4: "invalid_quantity",
        5: "future_placed_at",
        6: "order_lines_disagree",
        8: "order_lines_disagree",
        9: "order_has_rejected_line",
        10: "invalid_unit_price",
        11: "refund_exceeds_order",
        12: "member_blocked",
        13: "invalid_currency",
    }
    assert len(rejected) == 11 and rejected[1][2:] == rows[1]  # the row as read follows line and reason
    assert rejected[1][0] == "3"  # file order
    with db.unit_of_work() as session:
        assert sorted(session.scalars(select(Order.order_id))) == ["ok-1", "ok-2"]
        assert session.scalar(select(func.count()).select_from(ImportOrderLine)) == 0  # staging cleared


def test_an_unknown_column_stops_the_run_before_anything_is_written(client, auth, db, config, tmp_path):
    member = create_member(client, auth)
    path = _file(
        tmp_path,
        [["o-1", member["external_id"], _at(1).isoformat(), "tea", "1", "1", "surprise"]],
        header=["order_id", "external_id", "placed_at", "sku", "quantity", "unit_price", "coupon"],
    )
    code, _out, err = _import(config, path)
    assert code == 2 and "coupon" in err
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 0


def test_a_rerun_finds_every_order_existing_and_doubles_nothing(client, auth, db, config, tmp_path):
    member = create_member(client, auth)
    path = _file(
        tmp_path,
        [
            [f"r-{n}", member["external_id"], _at(n).isoformat(), "tea", "tea", "1", "10", "0", "", "", "", "", "", ""]
            for n in range(1, 6)
        ],
    )
    assert _import(config, path)[0] == 0
    before = ledger(client, auth, member["id"])
    code, out, _err = _import(config, path)
    assert code == 0 and "0 order lines imported, 5 existing, 0 rejected" in out
    assert ledger(client, auth, member["id"]) == before


def test_an_interrupted_run_started_again_finishes_without_doubling(client, auth, db, config, tmp_path, monkeypatch):
    members = [create_member(client, auth) for _ in range(4)]
    rows = [
        [
            f"i-{m}-{n}",
            member["external_id"],
            _at(n + 1).isoformat(),
            "tea",
            "tea",
            "1",
            "10",
            "0",
            "",
            "",
            "",
            "",
            "",
            "",
        ]
        for m, member in enumerate(members)
        for n in range(3)
    ]
    path = _file(tmp_path, rows)
    monkeypatch.setattr(importer, "POST_BATCH", 3)  # a member (3 lines) per batch
    real, calls = order_posting.post_batch, []

    def dies_on_the_third(db_, orders):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(db_, orders)

    monkeypatch.setattr(importer, "post_batch", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        _import(config, path)
    with db.unit_of_work() as session:
        first = session.scalar(select(func.count()).select_from(Order))
    assert 0 < first < 12  # batches committed before the stop stay, the rest are missing
    monkeypatch.setattr(importer, "post_batch", real)
    code, out, _err = _import(config, path)
    assert code == 0 and f"{12 - first} order lines imported, {first} existing, 0 rejected" in out
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 12
        earns = session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "earn"))
        assert earns == 12


def test_members_named_by_email_phone_or_number_and_order_fields_given_once(client, auth, db, config, tmp_path):
    member = create_member(client, auth)
    when = _at(5).isoformat()
    header = [
        "order_id",
        "email",
        "phone",
        "member_number",
        "placed_at",
        "sku",
        "quantity",
        "unit_price",
        "channel",
        "store",
        "shipping",
    ]
    path = _file(
        tmp_path,
        [
            ["e-1", member["email"].upper(), "", "", when, "tea", "1", "10", "pos", "S1", "5"],
            ["e-1", member["email"], "", "", when, "cup", "2", "3", "", "", ""],  # order fields once is enough
            ["p-1", "", member["phone"].replace("+86", "").replace(" ", ""), "", when, "tea", "1", "10", "", "", ""],
            ["n-1", "", "", member["member_number"], when, "tea", "1", "10", "", "", ""],
        ],
        header=header,
    )
    code, out, _err = _import(config, path)
    assert code == 0, out
    with db.unit_of_work() as session:
        order = session.get(Order, "e-1")
        assert (order.member_id, order.channel, order.store_id, order.shipping, len(order.items)) == (
            member["id"],
            "pos",
            "S1",
            5,
            2,
        )
        assert {session.get(Order, o).member_id for o in ("p-1", "n-1")} == {member["id"]}


def test_a_session_replaying_history_writes_no_events_and_others_still_do(db):
    with db.unit_of_work() as session:
        replaying_history(session)
        emit(session, "order.points_awarded", {"member_id": "m1"})
    assert _events(db) == 0
    with db.unit_of_work() as session:
        emit(session, "order.points_awarded", {"member_id": "m1"})
    assert _events(db) == 1


def test_the_summary_counts_order_lines_and_the_exit_code_says_all_went_in(client, auth, db, config, tmp_path):
    member = create_member(client, auth)
    path = _file(
        tmp_path,
        [
            ["s-1", member["external_id"], _at(2).isoformat(), sku, "tea", "1", "10", "0", "", "", "", "", "", ""]
            for sku in ("a", "b", "c")
        ],
    )
    result = CliRunner().invoke(
        main,
        ["import", "orders", str(path), "--rejects", str(tmp_path / "bad.csv")],
        env={"LOYALTY_DATABASE_URL": config.database_url, "LOYALTY_LOG_JSON": "1"},
    )
    assert result.exit_code == 0, result.output
    assert "import orders: 3 order lines imported, 0 existing, 0 rejected in" in result.output
    assert not (tmp_path / "bad.csv").exists()


def test_the_sample_in_docs_imports_cleanly_after_the_members_sample(client, auth, db, config, tmp_path):
    from pathlib import Path

    assert client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth()).status_code == 200
    docs = Path(__file__).resolve().parents[2] / "docs" / "import"
    out, err = io.StringIO(), io.StringIO()
    members = run_import(
        "members", docs / "members.csv", rejects_path=tmp_path / "m.csv", config=config, out=out, err=err
    )
    assert members == 0, out.getvalue() + err.getvalue()
    code, out, err = _import(config, docs / "orders.csv", rejects=tmp_path / "o.csv")
    assert code == 0, out + err
    assert "import orders: 18 order lines imported, 0 existing, 0 rejected" in out
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 13
        assert session.scalar(select(func.count()).select_from(Refund)) == 2


@pytest.mark.postgres_only
def test_several_posting_threads_post_every_order_once(client, auth, db, config, tmp_path, monkeypatch):
    members = [create_member(client, auth) for _ in range(6)]
    rows = [
        [
            f"t-{m}-{n}",
            member["external_id"],
            _at(n + 1).isoformat(),
            "tea",
            "tea",
            "1",
            "10",
            "0",
            "",
            "",
            "",
            "",
            "",
            "",
        ]
        for m, member in enumerate(members)
        for n in range(4)
    ]
    monkeypatch.setattr(importer, "POST_WORKERS", 3)
    monkeypatch.setattr(importer, "POST_BATCH", 4)  # a member a batch: six batches over three threads
    code, out, _err = _import(config, _file(tmp_path, rows))
    assert code == 0 and "24 order lines imported, 0 existing, 0 rejected" in out
    for member in members:
        assert balance(client, auth, member["id"])["lifetime_earned"] == 40
