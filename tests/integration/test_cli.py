from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from loyalty.cli import main
from loyalty.core.models import ApiKey
from loyalty.members.models import Member


@pytest.fixture
def run(database_url, db):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(
            main,
            list(args),
            env={"LOYALTY_DATABASE_URL": database_url, "LOYALTY_LOG_JSON": "1"},
            catch_exceptions=False,
        )

    return invoke


def test_keys_create_prints_the_key_last_and_stores_only_its_hash(run, db, client):
    result = run("keys", "create", "--role", "pos", "--name", "till 3")
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("lk_")
    with db.unit_of_work() as session:
        row = session.scalars(select(ApiKey)).one()
        dump = " ".join(str(v) for v in session.execute(text("SELECT * FROM api_keys")).one())
    assert key not in dump and row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert row.role == "pos" and row.name == "till 3"
    assert client.get("/v1/program", headers={"Authorization": f"Bearer {key}"}).status_code == 200

    listed = run("keys", "list")
    assert row.prefix in listed.output and "till 3" in listed.output and key not in listed.output
    assert run("keys", "revoke", row.prefix).exit_code == 0
    assert client.get("/v1/program", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    again = run("keys", "revoke", row.prefix)
    assert again.exit_code != 0 and "no active key" in again.output


def test_keys_create_rejects_bad_input(run):
    assert run("keys", "create", "--role", "god", "--name", "x").exit_code != 0
    assert run("keys", "create", "--role", "admin", "--name", "  ").exit_code != 0
    assert run("keys", "create", "--role", "admin").exit_code != 0


def test_demo_loads_once(run, db):
    first = run("demo")
    assert first.exit_code == 0 and "36 members" in first.output
    second = run("demo")
    assert second.exit_code == 0 and "not loaded" in second.output
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 36
        births = session.scalars(select(Member.birthday)).all()
        tiers = set(session.scalars(select(Member.tier_code)))
    assert all(births) and len({b.month for b in births}) > 6
    assert {"regular", "silver", "gold"} <= tiers  # graded by a year of real orders


def test_demo_admin_key_file_is_reused_while_it_works(run, tmp_path):
    path = tmp_path / "key"
    first = run("demo", "--admin-key-file", str(path)).output.strip().splitlines()[-1]
    second = run("demo", "--admin-key-file", str(path)).output.strip().splitlines()[-1]
    assert first == second == path.read_text().strip()
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_jobs_list_and_run(run):
    listed = run("jobs", "list")
    assert "idempotency.purge" in listed.output
    ran = run("jobs", "run", "idempotency.purge", "--as-of", "2026-01-31")
    assert ran.exit_code == 0 and "deleted=0" in ran.output
    assert run("jobs", "run", "nope").exit_code != 0
    assert run("jobs", "run", "idempotency.purge", "--as-of", "31/01/2026").exit_code != 0


def test_commands_on_an_unmigrated_database_give_advice(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["keys", "list"], env={"LOYALTY_DATABASE_URL": f"sqlite:///{tmp_path}/empty.db"})
    assert result.exit_code != 0 and "loyalty db upgrade" in result.output


def test_db_upgrade_on_a_fresh_database(tmp_path):
    runner = CliRunner()
    env = {"LOYALTY_DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db"}
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0  # idempotent
    assert runner.invoke(main, ["keys", "list"], env=env).exit_code == 0


def test_jobs_run_refuses_absurd_dates(run):
    result = run("jobs", "run", "idempotency.purge", "--as-of", "0001-01-01")
    assert result.exit_code == 2 and "between" in result.output


def test_the_new_jobs_are_listed_and_run_by_name(run):
    listed = run("jobs", "list").output
    for name in (
        "points.balances",
        "tiers.evaluate",
        "referrals.qualify",
        "care.plan",
        "care.dispatch",
        "webhooks.deliver",
        "insights.refresh",
        "campaigns.run",
    ):
        assert name in listed
        ran = run("jobs", "run", name, "--as-of", "2026-01-31")
        assert ran.exit_code == 0 and ran.output.strip().splitlines()[-1].startswith(f"{name} as of 2026-01-31")


@pytest.mark.parametrize(
    "args",
    [
        ("--lease-seconds", "0"),
        ("--lease-seconds", "lots"),
        ("--every-seconds", "0.1"),
        ("--every-seconds", "-5"),
        ("--sideways",),
    ],
)
def test_the_scheduler_refuses_bad_options_and_starts_nothing(run, db, args):
    from loyalty.core.models import JobRun, SchedulerLease

    result = run("scheduler", *args)
    assert result.exit_code == 2 and ("Invalid value" in result.output or "No such option" in result.output)
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(JobRun)) == 0
        assert session.scalar(select(func.count()).select_from(SchedulerLease)) == 0


ALL_JOBS = (
    "points.expire",
    "points.balances",
    "redemptions.release",
    "tiers.evaluate",
    "referrals.qualify",
    "webhooks.deliver",
    "care.plan",
    "care.dispatch",
    "insights.refresh",
    "campaigns.run",
    "idempotency.purge",
    "ledger.check",
    "events.purge",
    "console.sessions.purge",
)


def test_every_registered_job_is_covered_here():
    from loyalty.scheduler import JOBS

    assert set(JOBS) == set(ALL_JOBS)


@pytest.mark.parametrize("name", ALL_JOBS)
def test_every_job_refuses_a_future_as_of(run, db, name):
    """Tomorrow in the program's zone is refused with exit 2 and the reason; nothing runs."""
    from loyalty.core.models import JobRun
    from tests.clock import TODAY

    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    result = run("jobs", "run", name, "--as-of", tomorrow)
    assert result.exit_code == 2, result.output
    assert "the future hasn't happened" in result.output
    assert f"today ({TODAY.isoformat()} in Asia/Shanghai" in result.output
    assert run("jobs", "run", name, "--as-of", "2027-01-01").exit_code == 2
    today = run("jobs", "run", name, "--as-of", TODAY.isoformat())
    assert today.exit_code == 0 and today.output.strip().splitlines()[-1].startswith(f"{name} as of {TODAY}")
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(JobRun)) == 0


def test_future_means_after_today_in_the_programs_zone_not_the_hosts(run, client, auth):
    """At 18:00 UTC on 18 November it is already the 19th in Shanghai and still the 18th in Los Angeles."""
    import time_machine

    with time_machine.travel(datetime(2026, 11, 18, 18, 0, tzinfo=UTC), tick=False):
        assert run("jobs", "run", "care.plan", "--as-of", "2026-11-19").exit_code == 0
        assert run("jobs", "run", "care.plan", "--as-of", "2026-11-20").exit_code == 2
        assert run("jobs", "run", "care.plan").output.strip().splitlines()[-1].startswith("care.plan as of 2026-11-19")
        assert client.patch("/v1/program", json={"timezone": "America/Los_Angeles"}, headers=auth()).status_code == 200
        refused = run("jobs", "run", "care.plan", "--as-of", "2026-11-19")
        assert refused.exit_code == 2 and "(2026-11-18 in America/Los_Angeles" in refused.output
        assert run("jobs", "run", "care.plan", "--as-of", "2026-11-18").exit_code == 0


def test_a_future_as_of_plans_no_touch(run, client, auth, db):
    """The issue's case: care.plan as of next year planned touches due then, a win-back for someone who
    ordered today among them. Refused now, it plans nothing."""
    from loyalty.care.models import Touch

    client.put(
        "/v1/care/rules/win_back",
        json={"enabled": True, "channel": "sms", "inactive_days": 30, "template": "Hello {{ name }}"},
        headers=auth(),
    )
    client.put(
        "/v1/care/rules/birthday",
        json={"enabled": True, "channel": "sms", "days_before": 0, "template": "Happy birthday"},
        headers=auth(),
    )
    client.post("/v1/members", json={"name": "Li", "birthday": "1990-01-01"}, headers=auth())
    assert run("jobs", "run", "care.plan", "--as-of", "2027-01-01").exit_code == 2
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Touch)) == 0


def test_a_job_with_nothing_to_do_says_so_in_one_line(run):
    """Not a terminal (as under cron or CI): no progress line, only the summary."""
    from tests.clock import TODAY

    result = run("jobs", "run", "points.expire", "--as-of", TODAY.isoformat())
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        (
            f"points.expire as of {TODAY}: nothing to do, no points were due to expire by the end of the day, "
            "and no new ones expire within 30 days (lots_expired=0, points_expired=0, expiring_notices=0)"
        )
    ]
    assert all(json.loads(line) for line in result.stderr.splitlines())  # the log stays JSON
    purge = run("jobs", "run", "idempotency.purge", "--as-of", TODAY.isoformat()).stdout.splitlines()
    assert purge == [
        (
            f"idempotency.purge as of {TODAY}: nothing to do, no Idempotency-Key record was past the "
            "replay window (deleted=0)"
        )
    ]


def test_a_job_that_did_something_prints_its_counts(run, client, auth):
    from tests.clock import TODAY

    client.post("/v1/members", json={"name": "Wang"}, headers=auth())
    lines = run("jobs", "run", "tiers.evaluate", "--as-of", TODAY.isoformat()).stdout.splitlines()
    assert len(lines) == 1 and re.fullmatch(
        rf"tiers\.evaluate as of {TODAY}: members=1, qualified=0, .* \(\d+\.\d s\)", lines[0]
    ), lines


def test_progress_shows_batches_and_rate_on_a_terminal_only():
    import io

    from loyalty.core.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    ticks = iter([0.0, 0.1, 1.0, 2.0, 2.5])
    terminal = Terminal()
    progress = Progress("points.expire", stream=terminal, clock=lambda: next(ticks))
    progress.step(5000)  # at 0.1 s: shown
    progress.step(5000)  # at 1.0 s: shown
    progress.step(2000)  # at 2.0 s: shown (0.5 s since the last)
    progress.close()
    shown = terminal.getvalue()
    assert "\rpoints.expire: 1 batch done, 5,000 rows, 50,000 rows/s" in shown
    assert "\rpoints.expire: 3 batches done, 12,000 rows, 6,000 rows/s" in shown
    assert shown.endswith("points.expire: 3 batches done, 12,000 rows, 4,800 rows/s\x1b[K\n")

    pipe = io.StringIO()  # not a terminal: quiet
    quiet = Progress("points.expire", stream=pipe)
    quiet.step(5000)
    quiet.close()
    assert pipe.getvalue() == ""
