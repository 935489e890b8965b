"""An erasure racing writes about the same member: nothing written alongside it survives it."""

from __future__ import annotations

from sqlalchemy import text

from tests.factories import create_member
from tests.integration.test_concurrency import _race

MARKER = "zqxrace"


def test_interactions_and_adjustments_racing_an_erasure_leave_nothing_of_theirs(database_url, client, auth, db):
    member = create_member(client, auth)
    staff = auth("staff")

    def complain(i):
        return lambda c: (
            c.post(
                f"/v1/members/{member['id']}/interactions",
                json={"kind": "complaint", "content": f"{MARKER} complaint {i}"},
                headers=staff,
            ).status_code
        )

    def adjust(i):
        return lambda c: (
            c.post(
                f"/v1/members/{member['id']}/adjustments",
                json={"points": 1, "reason": f"{MARKER} note {i}"},
                headers=staff,
            ).status_code
        )

    def erase(c):
        return c.delete(f"/v1/members/{member['id']}", headers=staff).status_code

    for round_ in range(3):
        results = _race(database_url, [complain(i) for i in range(5)] + [erase] + [adjust(i) for i in range(5)])
        assert results[5] == 204 and set(results) <= {201, 204, 409}, results
        with db.engine.connect() as connection:
            left = [
                row
                for table in ("interactions", "ledger_entries", "touches")
                for row in connection.execute(text(f"SELECT * FROM {table}")).all()
                if MARKER in str(row)
            ]
        assert left == [], (round_, left)
