"""loyalty_points_total: the ledger summed in primary-key chunks over scrapes, then only new rows."""

from __future__ import annotations

from loyalty.ops_metrics import LedgerTotals
from loyalty.points.models import LedgerEntry
from tests.clock import NOW
from tests.factories import create_member


def _write(db, member_id: str, entries: list[tuple[str, int]], start: int) -> None:
    with db.unit_of_work() as session:
        for n, (kind, points) in enumerate(entries, start):
            session.add(
                LedgerEntry(
                    member_id=member_id, kind=kind, points=points, created_at=NOW, source_type="test", source_id=str(n)
                )
            )


def _samples(totals: LedgerTotals, db) -> dict[str, float]:
    with db.sessions() as session:
        family = totals.family(session)
    return {sample.labels["flow"]: sample.value for sample in family.samples}


def test_chunked_catch_up_then_new_rows_one_scrape_later(client, auth, db):
    member = create_member(client, auth)["id"]
    _write(db, member, [("earn", 100), ("bonus", 50), ("redeem", -30), ("expire", -20), ("reversal", -10)], 0)
    totals = LedgerTotals()
    totals.CHUNK = 2
    assert _samples(totals, db) == {}  # first scrape only notes the highest id
    assert _samples(totals, db) == {}  # two of five rows summed: not caught up, so nothing shown
    assert _samples(totals, db) == {}  # four of five
    caught_up = {"issued": 150, "redeemed": 30, "expired": 20, "reversed": 10}
    assert _samples(totals, db) == caught_up
    _write(db, member, [("earn", 7)], 10)
    assert _samples(totals, db) == caught_up  # the new row's id is seen; folded in at the next scrape
    assert _samples(totals, db) == {**caught_up, "issued": 157}
