"""Segments: saved filters compiled to one SQL query; unknown or bad filters are 422s naming them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import event, func, select

from loyalty.campaigns import export, segments
from loyalty.campaigns.filters import compile_filters
from loyalty.members.models import Member
from loyalty.points import balances
from loyalty.points.models import LedgerEntry, PointAccount, PointLot
from loyalty.points.service import available_points, available_points_of, balance
from loyalty.reconcile import reconcile
from loyalty.scheduler import run_job
from tests.api.test_tiers import LADDER
from tests.clock import NOW, TODAY, now, today
from tests.factories import create_member, order_payload, post_order


def order(client, auth, member_id, order_id, amount, days_ago):
    payload = order_payload(member_id, order_id, amount, placed_at=(NOW - timedelta(days=days_ago)).isoformat())
    assert client.post("/v1/orders", json=payload, headers=auth("storefront")).status_code == 201


def segment(client, auth, **filters):
    response = client.post("/v1/segments", json={"name": "test", "filters": filters}, headers=auth("staff"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def members_of(client, auth, segment_id):
    body = client.get(f"/v1/segments/{segment_id}/members?limit=500", headers=auth("staff")).get_json()
    return {m["id"] for m in body["data"]}


@pytest.fixture
def shop(client, auth, db, config):
    client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth())
    people = {
        "whale_gone": create_member(
            client, auth, city="Suzhou", birthday="1980-03-02", tags=["vip"], consent={"sms": True, "marketing": True}
        ),
        "whale_here": create_member(client, auth, city="Shanghai", birthday="1995-03-20"),
        "small": create_member(client, auth, city="Shanghai", birthday="2001-07-07", tags=["student"]),
        "never": create_member(client, auth, city="=HYPERLINK(evil)", birthday=None),
    }
    order(client, auth, people["whale_gone"]["id"], "wg-1", "9000", 300)
    order(client, auth, people["whale_gone"]["id"], "wg-2", "9000", 200)
    order(client, auth, people["whale_here"]["id"], "wh-1", "8500", 20)
    order(client, auth, people["small"]["id"], "s-1", "30", 10)
    run_job("insights.refresh", db=db, config=config, as_of=today())
    return people


def test_last_years_top_spenders_who_stopped_ordering(client, auth, shop):
    cutoff = (today() - timedelta(days=90)).isoformat()
    found = segment(client, auth, spend_12m_min="5000", last_order_before=cutoff)
    assert found["members"] == 1 and members_of(client, auth, found["id"]) == {shop["whale_gone"]["id"]}
    by_rfm = segment(client, auth, m_min=3, r_max=2)
    assert members_of(client, auth, by_rfm["id"]) == {shop["whale_gone"]["id"]}


@pytest.mark.parametrize(
    "filters, who",
    [
        ({"tiers": ["gold"]}, {"whale_gone", "whale_here"}),
        ({"tags": ["student"]}, {"small"}),
        ({"stages": ["prospect"]}, {"never"}),
        ({"cities": ["Shanghai"]}, {"whale_here", "small"}),
        ({"birthday_months": [3]}, {"whale_gone", "whale_here"}),
        ({"age_min": 40}, {"whale_gone"}),
        ({"age_max": 25}, {"small"}),
        ({"consent": {"sms": True, "marketing": True}}, {"whale_gone"}),
        ({"balance_min": 100}, {"whale_gone", "whale_here"}),
        ({"balance_max": 0}, {"never", "small"}),  # small's points are still pending
        ({"last_order_after": (TODAY - timedelta(days=15)).isoformat()}, {"small"}),
        (
            {"enrolled_after": (TODAY - timedelta(days=1)).isoformat(), "statuses": ["active"]},
            {"whale_gone", "whale_here", "small", "never"},
        ),
    ],
)
def test_each_filter(client, auth, shop, filters, who):
    found = segment(client, auth, **filters)
    assert members_of(client, auth, found["id"]) == {shop[name]["id"] for name in who}
    assert found["members"] == len(who)


@pytest.mark.parametrize(
    "filters, field",
    [
        ({"favourite_colour": ["red"]}, "filters.favourite_colour"),
        ({"stages": ["sleepy"]}, "filters.stages.0"),
        ({"r_min": 6}, "filters.r_min"),
        ({"birthday_months": [13]}, "filters.birthday_months.0"),
        ({"consent": {"fax": True}}, "filters.consent"),
        ({"age_min": 50, "age_max": 20}, "filters.age_min"),
        ({"last_order_before": "yesterday"}, "filters.last_order_before"),
    ],
)
def test_an_unknown_or_bad_filter_is_a_422_naming_it(client, auth, filters, field):
    response = client.post("/v1/segments", json={"name": "x", "filters": filters}, headers=auth("staff"))
    assert response.status_code == 422
    assert any(key.startswith(field) for key in response.get_json()["errors"]), response.get_json()


def test_csv_export_is_streamed_and_safe_for_spreadsheets(client, auth, shop):
    everyone = segment(client, auth)
    response = client.get(f"/v1/segments/{everyone['id']}/export.csv", headers=auth("staff"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 4
    assert {r["city"] for r in rows} >= {"'=HYPERLINK(evil)", "Shanghai"}
    assert all(r["phone"].startswith("+86") for r in rows)  # phone numbers are not formulas
    assert client.get("/v1/segments/seg_nothing/export.csv", headers=auth("staff")).status_code == 404
    listed = client.get("/v1/segments", headers=auth("staff")).get_json()["data"]
    assert [s["id"] for s in listed] == [everyone["id"]]


def test_unknown_tiers_and_empty_lists_are_refused(client, auth, shop):
    unknown = client.post(
        "/v1/segments", json={"name": "x", "filters": {"tiers": ["gold", "platinum"]}}, headers=auth("staff")
    )
    assert unknown.status_code == 422 and "filters.tiers.1" in unknown.get_json()["errors"]
    empty = client.post("/v1/segments", json={"name": "x", "filters": {"tiers": []}}, headers=auth("staff"))
    assert empty.status_code == 422 and "filters.tiers" in empty.get_json()["errors"]


def _campaign(client, auth, segment_id, **fields):
    response = client.post(
        "/v1/campaigns",
        json={"name": "c", "segment_id": segment_id, "channel": "sms", "template": "Hi {{ name }}", **fields},
        headers=auth("staff"),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_segment_can_be_renamed_and_refiltered(client, auth, shop):
    staff = auth("staff")
    found = segment(client, auth, cities=["Shanghai"])
    url = f"/v1/segments/{found['id']}"
    changed = client.patch(url, json={"name": "Suzhou people", "filters": {"cities": ["Suzhou"]}}, headers=staff)
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert (body["name"], body["filters"], body["members"]) == ("Suzhou people", {"cities": ["Suzhou"]}, 1)
    assert members_of(client, auth, found["id"]) == {shop["whale_gone"]["id"]}
    renamed = client.patch(url, json={"name": "again"}, headers=staff).get_json()
    assert (renamed["name"], renamed["filters"]) == ("again", {"cities": ["Suzhou"]})  # only what is sent
    for filters, field in (
        ({"tiers": ["platinum"]}, "filters.tiers.0"),
        ({"r_min": 9}, "filters.r_min"),
        ({"age_min": 50, "age_max": 20}, "filters.age_min"),
    ):
        refused = client.patch(url, json={"name": "never", "filters": filters}, headers=staff)
        assert refused.status_code == 422 and field in refused.get_json()["errors"], refused.get_json()
    assert client.patch(url, json={"name": ""}, headers=staff).status_code == 422
    assert client.get(url, headers=staff).get_json()["name"] == "again"  # nothing written
    assert client.patch("/v1/segments/seg_none", json={"name": "x"}, headers=staff).status_code == 404
    assert client.patch(url, json={"name": "x"}, headers=auth("storefront")).status_code == 403


def test_a_segment_a_campaign_reads_cannot_change_under_it_nor_be_deleted(client, auth, db, config, shop):
    staff = auth("staff")
    found = segment(client, auth, cities=["Shanghai"])
    url = f"/v1/segments/{found['id']}"
    campaign = _campaign(client, auth, found["id"])
    assert client.patch(url, json={"name": "a draft reads it at launch"}, headers=staff).status_code == 200
    in_use = client.delete(url, headers=staff)
    assert in_use.status_code == 409 and in_use.get_json()["code"] == "segment_in_use"
    assert in_use.get_json()["campaign_ids"] == [campaign["id"]]
    client.post(f"/v1/campaigns/{campaign['id']}/launch", headers=staff)
    for move in ("pause", "resume"):  # running, then paused
        for refused in (client.patch(url, json={"name": "x"}, headers=staff), client.delete(url, headers=staff)):
            assert refused.status_code == 409 and refused.get_json()["code"] == "segment_in_use", refused.get_json()
        client.post(f"/v1/campaigns/{campaign['id']}/{move}", headers=staff)
    run_job("campaigns.run", db=db, config=config, as_of=today())
    run_job("care.dispatch", db=db, config=config, as_of=today())
    assert run_job("campaigns.run", db=db, config=config, as_of=today())["finished"] == 1

    assert client.patch(url, json={"name": "finished campaigns keep their touches"}, headers=staff).status_code == 200
    assert client.delete(url, headers=staff).status_code == 204
    assert client.get(url, headers=staff).status_code == 404
    assert client.get(f"{url}/members", headers=staff).status_code == 404
    assert client.delete(url, headers=staff).status_code == 404
    assert found["id"] not in {s["id"] for s in client.get("/v1/segments", headers=staff).get_json()["data"]}
    finished = client.get(f"/v1/campaigns/{campaign['id']}", headers=staff).get_json()
    assert finished["segment_id"] == found["id"] and finished["results"]["targeted"] == 2
    again = client.post(
        "/v1/campaigns",
        json={"name": "c", "segment_id": found["id"], "channel": "sms", "template": "Hi"},
        headers=staff,
    )
    assert again.status_code == 422 and "segment_id" in again.get_json()["errors"]


# The balance filter (each account's stored balance where it holds, else its lots summed live; with
# balance_min above 0 only the accounts reaching it, joined) picks exactly the members whose
# available points, as points.service counts them one by one, lie between balance_min and balance_max:
# members with no lots, only pending, expired or spent lots, lots on the edge of now, lots and debt,
# debt only; with every balance counted live, and with every one stored by points.balances.

DAY = timedelta(days=1)
_sources = count(1)

# Each member's lots as (remaining, available in, expires in: None for never) relative to now, and debt.
PEOPLE: dict[str, tuple[list[tuple[int, timedelta, timedelta | None]], int | None]] = {
    "nothing": ([], None),
    "pending_only": ([(500, DAY, None)], None),
    "expired_only": ([(700, -30 * DAY, -DAY)], None),
    "spent": ([(0, -30 * DAY, None)], 0),
    "on_the_edge": ([(40, timedelta(0), 30 * DAY), (900, -30 * DAY, timedelta(0))], None),  # expires now: gone
    "rich": ([(3000, -30 * DAY, 30 * DAY), (1500, -60 * DAY, None), (800, DAY, None)], 0),
    "lots_and_debt": ([(1000, -10 * DAY, None)], 300),
    "debt_only": ([], 200),
    "deep_in_debt": ([(100, -10 * DAY, None)], 500),
    "account_no_debt": ([(50, -DAY, 10 * DAY)], 0),
}

BOUNDS = [
    {"balance_min": 0},
    {"balance_min": 1},
    {"balance_min": 40},
    {"balance_min": 700},
    {"balance_min": 4500},
    {"balance_min": 4501},
    {"balance_min": -200},
    {"balance_max": 10},
    {"balance_max": 0},
    {"balance_max": -1},
    {"balance_max": -400},
    {"balance_max": 4500},
    {"balance_min": 0, "balance_max": 0},
    {"balance_min": 40, "balance_max": 700},
    {"balance_min": -400, "balance_max": 50},
    {"balance_min": 100, "balance_max": 50},
]


@pytest.fixture
def people(client, auth, db) -> dict[str, str]:
    ids = {name: create_member(client, auth)["id"] for name in PEOPLE}
    at = now()
    with db.unit_of_work() as session:
        for name, (lots, debt) in PEOPLE.items():
            for remaining, available_in, expires_in in lots:
                _lot(
                    session,
                    ids[name],
                    remaining,
                    at + available_in,
                    None if expires_in is None else at + expires_in,
                    at,
                )
            if debt is not None:
                _debt(session, ids[name], debt, at)
    return ids


def _lot(session, member_id, remaining, available_at, expires_at, at) -> None:
    entry = LedgerEntry(
        member_id=member_id,
        kind="earn",
        points=max(remaining, 1),
        created_at=at,
        available_at=available_at,
        expires_at=expires_at,
        source_type="test",
        source_id=f"balance-{next(_sources)}",
    )
    session.add(entry)
    session.flush()
    if session.get(PointAccount, member_id) is None:  # as every credit does: the lock, and the balance
        session.add(PointAccount(member_id=member_id, debt=0, lifetime_earned=0, orders_count=0, updated_at=at))
    session.add(
        PointLot(
            member_id=member_id,
            entry_id=entry.id,
            points=max(remaining, 1),
            remaining=remaining,
            available_at=available_at,
            expires_at=expires_at,
            created_at=at,
        )
    )


def _debt(session, member_id, debt, at) -> None:
    account = session.get(PointAccount, member_id) or PointAccount(
        member_id=member_id, lifetime_earned=0, orders_count=0, updated_at=at
    )
    account.debt = debt
    session.add(account)


@pytest.fixture(params=["live", "stored"])
def balances_as(request, db, people) -> dict[str, str]:
    """The people, their balances counted live (none stored yet) or stored by points.balances."""
    if request.param == "stored":
        with db.unit_of_work() as session:
            assert len(balances.count_stale(session, after="", now=now())) == len(people) - 1  # "nothing": no account
        with db.unit_of_work() as session:
            assert session.scalar(select(func.count()).where(PointAccount.balance.is_(None))) == 0
    return people


def _members(session, filters, at) -> set[str]:
    query = compile_filters(segments.loaded(filters), now=at)
    return set(session.scalars(query))


def test_the_people_have_the_balances_they_were_built_with(db, people):
    at = now()
    expected = {
        "nothing": 0,
        "pending_only": 0,
        "expired_only": 0,
        "spent": 0,
        "on_the_edge": 40,
        "rich": 4500,
        "lots_and_debt": 700,
        "debt_only": -200,
        "deep_in_debt": -400,
        "account_no_debt": 50,
    }
    with db.unit_of_work() as session:
        assert available_points(session, list(people.values()), now=at) == {
            people[name]: points for name, points in expected.items()
        }
        assert {name: balance(session, member_id=people[name], now=at)["available"] for name in people} == expected


@pytest.mark.parametrize("bounds", BOUNDS, ids=lambda b: ",".join(f"{k[8:]}={v}" for k, v in b.items()))
def test_the_balance_filter_picks_whom_available_points_would(db, balances_as, bounds):
    people, at = balances_as, now()
    low, high = bounds.get("balance_min", float("-inf")), bounds.get("balance_max", float("inf"))
    with db.unit_of_work() as session:
        points = available_points(session, list(people.values()), now=at)
        expected = {member for member, available in points.items() if low <= available <= high}
        assert _members(session, bounds, at) == expected
        assert segments.count(session, bounds, now=at) == len(expected)
        # A keyset page reads the lots from its cursor on: the same members, page by page.
        paged, after = [], ""
        while page := list(session.scalars(_page(bounds, at, after))):
            paged += page
            after = page[-1]
        assert paged == sorted(expected)


# A stored balance is counted at one instant: it says until when it holds (the next open lot to
# mature or expire), and past that the filter counts the member's lots again.
LATER = [timedelta(0), DAY - timedelta(seconds=1), DAY, 10 * DAY, 30 * DAY, 30 * DAY + timedelta(seconds=1), 400 * DAY]


@pytest.mark.parametrize("later", LATER, ids=str)
def test_a_stored_balance_is_read_only_while_it_holds(db, people, later):
    with db.unit_of_work() as session:
        balances.count_stale(session, after="", now=now())
    at = now() + later
    with db.unit_of_work() as session:
        points = available_points(session, list(people.values()), now=at)
        for bounds in BOUNDS:
            low, high = bounds.get("balance_min", float("-inf")), bounds.get("balance_max", float("inf"))
            assert _members(session, bounds, at) == {m for m, p in points.items() if low <= p <= high}, bounds
        assert [c for c in reconcile(session) if c.name == "stored_balances"][0].ok


@pytest.mark.parametrize("later", LATER, ids=str)
@pytest.mark.parametrize("counted_in", [timedelta(0), 31 * DAY], ids=["counted_now", "counted_after_the_reader"])
def test_the_tills_one_statement_reads_a_stored_balance_only_while_it_holds(db, people, later, counted_in):
    """The POS lookup's expression (points.service.available_points_of): what the lots say, counted
    live, at every instant, whether points.balances counted them before or after the reader's
    instant; a member without an account has only lots (here: none)."""
    with db.unit_of_work() as session:
        balances.count_stale(session, after="", now=now() + counted_in)
        session.delete(session.get(PointAccount, people["account_no_debt"]))  # 50 points, no account
    at = now() + later
    with db.unit_of_work() as session:
        live = available_points(session, list(people.values()), now=at)
        read = dict(session.execute(select(Member.id, available_points_of(Member.id)), {"now": at}).all())
    assert {name: read[people[name]] for name in people} == {name: live[people[name]] for name in people}


def test_a_balance_counted_after_the_readers_instant_is_not_read(db, people):
    """A reader's `now` can be older than a count that just committed (a job that took its clock a
    moment before): rich's 3,000 points expire in 30 days; counted after that, read before."""
    at = now()
    with db.unit_of_work() as session:
        balances.count_stale(session, after="", now=at + 30 * DAY + timedelta(seconds=1))
    with db.unit_of_work() as session:
        assert session.get(PointAccount, people["rich"]).balance == 2300  # 1,500 + the 800 matured since
        assert _members(session, {"balance_min": 4500}, at) == {people["rich"]}
        assert [c for c in reconcile(session) if c.name == "stored_balances"][0].ok


def test_a_member_with_lots_and_no_account_is_reported(db, people):
    with db.unit_of_work() as session:
        session.delete(session.get(PointAccount, people["rich"]))
    with db.unit_of_work() as session:
        check = [c for c in reconcile(session) if c.name == "accounts"][0]
    assert (check.mismatches, check.examples) == (1, [people["rich"]])


def test_every_change_of_points_forgets_the_stored_balance(client, auth, db, config, people, monkeypatch):
    """Counted, then changed through the API: the stored balance is set aside (the filter counts the
    lots again) until points.balances counts it anew (here as a run that counted many: on PostgreSQL
    it then vacuums and analyses the accounts, outside any transaction)."""
    monkeypatch.setattr(balances, "RESTATE", 1)
    with db.unit_of_work() as session:
        balances.count_stale(session, after="", now=now())
    rich, poor = people["rich"], people["account_no_debt"]
    changed = client.post(
        f"/v1/members/{rich}/adjustments", json={"points": -4000, "reason": "t"}, headers=auth("staff")
    )
    assert changed.status_code == 201, changed.get_json()
    with db.unit_of_work() as session:
        assert session.get(PointAccount, rich).balance is None and session.get(PointAccount, poor).balance == 50
        assert _members(session, {"balance_min": 4000}, now()) == set()
        assert _members(session, {"balance_min": 500, "balance_max": 500}, now()) == {rich}
    assert run_job("points.balances", db=db, config=config, as_of=today())["balances_counted"] == 1
    with db.unit_of_work() as session:
        assert session.get(PointAccount, rich).balance == 500
        assert _members(session, {"balance_min": 500, "balance_max": 500}, now()) == {rich}
        # (The people's lots are built by hand, without the entries the other checks add up.)
        assert [c for c in reconcile(session) if c.name == "stored_balances"][0].ok


def test_a_merge_moves_points_and_forgets_both_stored_balances(client, auth, db, people):
    with db.unit_of_work() as session:
        balances.count_stale(session, after="", now=now())
    survivor, duplicate = people["account_no_debt"], people["lots_and_debt"]  # 50, and 1,000 less 300 debt
    merged = client.post(f"/v1/members/{survivor}/merge", json={"member_id": duplicate}, headers=auth("staff"))
    assert merged.status_code == 200, merged.get_json()
    with db.unit_of_work() as session:
        assert (
            session.get(PointAccount, survivor).balance is None and session.get(PointAccount, duplicate).balance is None
        )
        assert _members(session, {"balance_min": 750, "balance_max": 750}, now()) == {survivor}
        balances.count_stale(session, after="", now=now())
    with db.unit_of_work() as session:
        assert session.get(PointAccount, survivor).balance == 750
        assert _members(session, {"balance_min": 750, "balance_max": 750}, now()) == {survivor}


def _page(bounds, at, after):
    return compile_filters(segments.loaded(bounds), now=at, after=after).order_by(Member.id).limit(2)


@pytest.mark.parametrize("bounds", [{"balance_min": 1}, {"balance_max": 0}])
def test_a_balance_segments_members_are_paged_whole(client, auth, db, people, bounds):
    found = segment(client, auth, **bounds)
    paged, cursor = [], ""
    while True:
        url = f"/v1/segments/{found['id']}/members?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=auth("staff")).get_json()
        paged += [member["id"] for member in body["data"]]
        if not (cursor := body["next_cursor"]):
            break
    with db.unit_of_work() as session:
        assert paged == sorted(_members(session, bounds, now())) and len(paged) == found["members"]


# The CSV export is one query, streamed in chunks, and gives its connection back when it ends, also
# when the client goes away halfway.


@pytest.fixture
def everyone(client, auth, db):
    members = sorted(create_member(client, auth)["id"] for _ in range(5))
    for n, member_id in enumerate(members[:3]):
        post_order(client, auth, member_id, f"export-{n}", "500.00")
    with db.unit_of_work() as session:
        return segments.create(session, name="all", filters={}, actor="test").id, members


def _statements(engine):
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    return seen, lambda: event.remove(engine, "before_cursor_execute", note)


def test_the_export_is_one_query_read_in_chunks(db, everyone):
    segment_id, members = everyone
    seen, stop = _statements(db.read_engine)
    try:
        with db.reader() as session:
            chunks = list(export.export_rows(session, segment_id=segment_id, batch=2))
    finally:
        stop()
    assert len([s for s in seen if "FROM members" in s]) == 1
    assert len(chunks) == 1 + 3  # the header, then 2 + 2 + 1 members
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert rows[0] == list(export.EXPORT_COLUMNS)
    assert [row[0] for row in rows[1:]] == members


def test_a_balance_segment_exports_its_members_only(db, everyone):
    _, members = everyone
    with db.unit_of_work() as session:
        rich = segments.create(session, name="rich", filters={"balance_min": 1}, actor="test").id
        held = segments.count(session, {"balance_min": 1})
    with db.reader() as session:
        text = "".join(export.export_rows(session, segment_id=rich, batch=2))
    exported = [row[0] for row in csv.reader(io.StringIO(text))][1:]
    assert exported == members[:3] and held == 3  # the ones who ordered


def test_a_client_gone_midway_gives_the_connection_back(client, auth, db, everyone):
    segment_id, _ = everyone
    pool = db.read_engine.pool
    idle = pool.checkedout()
    response = client.get(f"/v1/segments/{segment_id}/export.csv", headers=auth("staff"), buffered=False)
    body = iter(response.response)
    assert next(body).startswith(b"id,member_number")
    assert next(body)  # the first members: the export's session is open and reading
    assert pool.checkedout() == idle + 1
    response.close()  # what the server does when the client hangs up
    assert pool.checkedout() == idle


def test_a_whole_export_gives_the_connection_back(client, auth, db, everyone):
    segment_id, members = everyone
    idle = db.read_engine.pool.checkedout()
    response = client.get(f"/v1/segments/{segment_id}/export.csv", headers=auth("staff"))
    assert len(response.get_data(as_text=True).splitlines()) == 1 + len(members)
    assert db.read_engine.pool.checkedout() == idle
