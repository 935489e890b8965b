"""points.expire over 1,000,000 members with 300,000 lots due on PostgreSQL (issue 17: at most 60 s,
memory flat).

Every member holds a lot that expires in 400 days; three in ten also hold one that expired yesterday
and still has points. Run as `loyalty jobs run points.expire`, twice: the first expires the due lots
(a ledger entry each), the second finds nothing left."""

from __future__ import annotations

import os
from datetime import timedelta

from bench.harness import fresh_database, job, psql, save, settle, size
from bench.seed import seed_accounts, seed_lots, seed_members

MEMBERS = size("BENCH_EXPIRE_MEMBERS")
DUE_SHARE = float(os.environ.get("BENCH_EXPIRE_DUE_SHARE", "0.3"))


def run(members: int | None = None) -> dict:
    members = members or MEMBERS
    due = int(members * DUE_SHARE)
    with fresh_database("expire") as url:
        with psql(url) as connection:
            seed_members(connection, members)
            seed_accounts(connection)
            seed_lots(connection, members)
            seed_lots(connection, due, expires_in=-timedelta(days=1), first_id=members + 1)
            connection.execute("ANALYZE")
            connection.commit()
            settle(connection)
        first, second = job(url, "points.expire"), job(url, "points.expire")
        with psql(url) as connection:
            expired, left = connection.execute(
                "SELECT (SELECT count(*) FROM ledger_entries WHERE kind = 'expire'), "
                "(SELECT count(*) FROM point_lots WHERE remaining > 0 AND expires_at <= now())"
            ).fetchone()
    result = {
        "members": members,
        "lots_due": due,
        "first_run_seconds": first["seconds"],
        "first_run": first["summary"],
        "second_run_seconds": second["seconds"],
        "second_run": second["summary"],
        "peak_rss_mb": max(first["peak_rss_mb"], second["peak_rss_mb"]),
        "expire_entries": expired,
        "due_lots_left": left,
    }
    assert expired == due and left == 0, (expired, due, left)
    save("expire", result)
    return result
