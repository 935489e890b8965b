"""The hot statements use their indexes: PostgreSQL's plan for each, over 50,000 seeded members (with
their orders, ledger entries, lots and tags) and fresh statistics, has no sequential scan of a large
table.

The statements are the ones the code really sends: captured with `before_cursor_execute` while the
API serves a POS lookup, an order (the award), a balance, a member found by each identifier and the
count of segments on selective indexed filters; each is then EXPLAINed with the values it was sent
with. A segment whose filter matches most members is rightly a sequential scan: not tested here.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import psycopg
import psycopg.sql
import pytest
import time_machine
from sqlalchemy import event, text

from tests.clock import NOW
from tests.conftest import _empty
from tests.factories import create_member, post_order

pytestmark = pytest.mark.postgres_only

SEEDED = 50_000

_SEED = [
    f"""INSERT INTO members (id, member_number, external_id, name, email, phone, consent, status, tier_code,
                             enrolled_at, updated_at, search_name, birthday, city)
        SELECT 'seed' || lpad(i::text, 12, '0'), (900000000000 + i)::text, 'seed-' || i, 'Seed ' || i,
               'seed' || i || '@example.com', '+8613' || lpad(i::text, 9, '0'), '{{}}', 'active',
               CASE WHEN i % 100 = 0 THEN 'gold' ELSE NULL END,
               {{now}} - interval '400 days', {{now}}, 'seed ' || i,
               date '1980-01-01' + (i % 9000), 'City ' || (i % 50)
        FROM generate_series(1, {SEEDED}) AS i""",
    """INSERT INTO member_tags (member_id, tag)
        SELECT id, CASE WHEN right(id, 3) = '007' THEN 'vip' ELSE 'regular' END FROM members WHERE id LIKE 'seed%'""",
    """INSERT INTO orders (order_id, member_id, placed_at, currency, exchange_rate, channel, items, shipping, tax,
                           net_amount, eligible_amount, program_amount, points_earned, bonus_points, available_at,
                           refunded_amount, refunded_eligible, points_reversed, points_forgiven, fingerprint,
                           created_at)
        SELECT 'seed-o-' || id || '-' || n, id, {now} - (n * interval '37 days'), 'CNY', 1, 'online', '[]', 0, 0,
               100, 100, 100, 100, 0, {now} - (n * interval '37 days') + interval '14 days', 0, 0, 0, 0, 'seed',
               {now} - (n * interval '37 days')
        FROM members, generate_series(1, 2) AS n WHERE id LIKE 'seed%'""",
    """INSERT INTO ledger_entries (member_id, kind, points, created_at, available_at, expires_at, source_type,
                                   source_id)
        SELECT member_id, 'earn', 100, created_at, available_at, available_at + interval '730 days', 'order', order_id
        FROM orders WHERE order_id LIKE 'seed-o-%'""",
    """INSERT INTO point_lots (member_id, entry_id, points, remaining, available_at, expires_at, created_at)
        SELECT member_id, id, points, points, available_at, expires_at, created_at
        FROM ledger_entries WHERE source_id LIKE 'seed-o-%'""",
    """INSERT INTO point_accounts (member_id, debt, lifetime_earned, orders_count, updated_at)
        SELECT id, 0, 200, 2, {now} FROM members WHERE id LIKE 'seed%'""",
    """INSERT INTO tiers (code, name, rank, threshold, discount_percent, earn_multiplier, benefits)
        VALUES ('gold', 'Gold', 1, 10000, 5, 1, '')""",
    """INSERT INTO referral_codes (member_id, code, created_at)
        SELECT id, 'S' || right(id, 12), {now} FROM members WHERE id LIKE 'seed%'""",
    """INSERT INTO rewards (id, name, description, kind, points_cost, coupon_valid_days, active, created_at,
                            updated_at)
        VALUES ('seed-reward', 'Seed', '', 'coupon', 100, 30, true, {now}, {now})""",
    """INSERT INTO redemptions (id, member_id, points, value, status, reward_id, coupon_code, expires_at, created_at)
        SELECT 'seed-r-' || id, id, 100, 1, 'captured', 'seed-reward', 'SEEDCPN' || translate(right(id, 5), '01', 'AB'),
               {now}, {now}
        FROM members WHERE id LIKE 'seed%' AND right(id, 1) IN ('0', '5')""",
    """INSERT INTO coupons (code, redemption_id, reward_id, member_id, issued_at, valid_until)
        SELECT coupon_code, id, reward_id, member_id, {now}, {now} + interval '30 days'
        FROM redemptions WHERE id LIKE 'seed-r-%'""",
    # Each order writes an event after checking that no id sorts after its own: a shop's outbox holds
    # many (the retention purge keeps weeks of them), and a scan of them grew every order's cost.
    """INSERT INTO outbox_events (id, type, occurred_at, data, member_id, dispatched_at)
        SELECT 'evt_00' || lpad(i::text, 24, '0'), 'member.updated', {now} - interval '1 day', '{}',
               'seed' || lpad(i::text, 12, '0'), {now} - interval '1 day'
        FROM generate_series(1, 50000) AS i""",
]
# A table is large when the planner knows it holds at least this many rows: a scan of a small one
# (the program, the tiers, a tag list) is the right plan.
LARGE_ROWS = 5_000


def _captured(engine, run) -> list[tuple[str, object]]:
    """What `run` sends through SQLAlchemy, and what it sends straight through the driver as a
    prepared statement (core/prepared_read.py, the POS lookup; core/prepared_statement.py, the
    order): those are marked generic, since PostgreSQL soon runs a prepared statement on its
    generic plan, the one without the values."""
    seen: list[tuple[str, object]] = []

    def note(_conn, _cursor, statement, parameters, _context, executemany):
        if statement.lstrip().split(None, 1)[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
            seen.append((statement, parameters[0] if executemany else parameters))

    sent_by_driver = psycopg.Cursor.execute

    def execute(cursor, query, params=None, *, prepare=None, **kwargs):
        if prepare:  # SQLAlchemy never asks for it: psycopg prepares its statements by itself
            seen.append((GENERIC, (str(query), params)))
        return sent_by_driver(cursor, query, params, prepare=prepare, **kwargs)

    event.listen(engine, "before_cursor_execute", note)
    psycopg.Cursor.execute = execute
    try:
        run()
    finally:
        psycopg.Cursor.execute = sent_by_driver
        event.remove(engine, "before_cursor_execute", note)
    assert seen, "nothing was sent to the database"
    return seen


GENERIC = "generic plan of"
_PG_TYPES = {str: "text", datetime: "timestamptz", int: "bigint"}


def _generic_plan(cursor, statement: str, parameters: dict) -> dict:
    """EXPLAIN of a prepared statement's generic plan (PostgreSQL 15 has no EXPLAIN GENERIC_PLAN)."""
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
    numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", statement)
    cursor.execute("DEALLOCATE ALL")
    types = [_PG_TYPES.get(type(parameters[name]), "unknown") for name in names]  # unknown: from the text
    cursor.execute(f"PREPARE hot({', '.join(types)}) AS {numbered}")
    cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    values = psycopg.sql.SQL(", ").join(psycopg.sql.Literal(parameters[name]) for name in names)
    cursor.execute(psycopg.sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE hot({})").format(values))
    return cursor.fetchone()[0]


def _scans(node: dict) -> list[tuple[str, str]]:
    found = [(node["Node Type"], node.get("Relation Name", ""))]
    for child in node.get("Plans", []):
        found += _scans(child)
    return found


def _sequential_scans(db, statements) -> list[str]:
    bad = []
    with db.engine.connect() as connection:
        large = set(
            connection.scalars(
                text("SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples >= :n"), {"n": LARGE_ROWS}
            )
        )
        assert {"members", "orders", "ledger_entries", "point_lots", "coupons", "outbox_events"} <= large
        cursor = connection.connection.driver_connection.cursor()
        for statement, parameters in statements:
            if statement == GENERIC:
                statement, parameters = parameters
                plan = _generic_plan(cursor, statement, parameters)
            else:
                cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
                plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            for node_type, relation in _scans(plan[0]["Plan"]):
                if node_type == "Seq Scan" and relation in large:
                    bad.append(f"Seq Scan on {relation}: {' '.join(statement.split())[:300]}")
        connection.rollback()
    return bad


@pytest.fixture(scope="module")
def seeded(database_url):
    """Seeded once for the module (50,000 members take a few seconds); the member the requests are
    about is enrolled through the API by each test."""
    from loyalty.core.db import Database

    database = Database(database_url)
    _empty(database)  # whatever an earlier module left (a tier named gold)
    with database.engine.begin() as connection:
        for statement in _SEED:  # the pinned instant, never the database's clock
            connection.execute(text(statement.replace("{now}", f"timestamptz '{NOW.isoformat()}'")))
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    yield database
    database.dispose()


@pytest.fixture
def hot(seeded, client, auth):
    """A member enrolled and ordering through the API (fresh identifiers per test: the seeded tables
    are kept between this module's tests)."""
    member = create_member(client, auth)
    post_order(client, auth, member["id"], f"warm-{member['id']}", "80.00")
    for role in ("pos", "staff", "storefront"):  # keys made before the capture: their inserts aren't hot
        auth(role)
    return member


@pytest.fixture
def db(shared_db):
    """This module keeps its seeded rows: the conftest `db` would empty every table per test."""
    from loyalty.core.cache import clear_all
    from loyalty.program.service import ensure_program

    clear_all()
    with shared_db.unit_of_work() as session:
        ensure_program(session)
    yield shared_db


def test_the_pos_lookup_uses_indexes(hot, client, auth, db):
    with db.engine.connect() as connection:
        coupon = connection.scalar(text("SELECT code FROM coupons ORDER BY code LIMIT 1"))

    def lookups():
        for identifier in (hot["member_number"], hot["phone"], hot["phone"].removeprefix("+86"), coupon):
            assert client.get(f"/v1/pos/members/{identifier}", headers=auth("pos")).status_code == 200

    statements = _captured(db.engine, lookups)
    assert sum(1 for statement, _ in statements if statement == GENERIC) == 4  # one prepared read each
    assert _sequential_scans(db, statements) == []


def test_the_order_award_and_the_balance_use_indexes(hot, client, auth, db):
    def award():
        post_order(client, auth, hot["id"], f"hot-{hot['id']}", "120.00", days_ago=1)
        assert client.get(f"/v1/members/{hot['id']}/balance", headers=auth("staff")).status_code == 200

    # An hour on: the clock starts again at NOW for each test, and this module keeps its rows, so an
    # earlier test's events could carry later ids than the award's; its event would then take the
    # other path (read the last id, write again), a fourth statement, depending on timing.
    with time_machine.travel(NOW + timedelta(hours=1), tick=True):
        statements = _captured(db.engine, award)
    # The order's own statements run on the driver (core/prepared_statement.py): generic plans too.
    # Three: the member; the gate and the lock; the credit, the tier value and the event.
    assert sum(1 for statement, _ in statements if statement == GENERIC) == 3
    assert _sequential_scans(db, statements) == []


def test_members_by_identifier_use_indexes(hot, client, auth, db):
    def finds():
        for name in ("email", "phone", "member_number", "external_id"):
            found = client.get("/v1/members", query_string={name: hot[name]}, headers=auth("storefront")).get_json()[
                "data"
            ]
            assert [m["id"] for m in found] == [hot["id"]], name
        assert client.get(f"/v1/members/{hot['id']}", headers=auth("storefront")).status_code == 200

    assert _sequential_scans(db, _captured(db.engine, finds)) == []


def test_segment_counts_on_selective_indexed_filters_use_indexes(hot, client, auth, db):
    made = []
    for filters in ({"tiers": ["gold"]}, {"tags": ["vip"]}):
        response = client.post("/v1/segments", json={"name": "hot", "filters": filters}, headers=auth("staff"))
        assert response.status_code == 201, response.get_json()
        made.append((response.get_json()["id"], filters))

    def counts():
        for segment, _filters in made:
            assert client.get(f"/v1/segments/{segment}", headers=auth("staff")).get_json()["members"] > 0

    assert _sequential_scans(db, _captured(db.engine, counts)) == []


def test_a_sequential_scan_is_caught(seeded, db):
    """The check itself: a statement that can only scan is reported."""
    bad = _sequential_scans(db, [("SELECT count(*) FROM members WHERE lower(city) = %(city)s", {"city": "city 7"})])
    assert bad and bad[0].startswith("Seq Scan on members")
