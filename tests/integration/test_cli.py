from __future__ import annotations

import hashlib

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
        return runner.invoke(main, list(args), env={"LOYALTY_DATABASE_URL": database_url, "LOYALTY_LOG_JSON": "1"},
                             catch_exceptions=False)

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
    for name in ("tiers.evaluate", "referrals.qualify", "care.plan", "care.dispatch", "webhooks.deliver",
                 "insights.refresh", "campaigns.run"):
        assert name in listed
        ran = run("jobs", "run", name, "--as-of", "2026-01-31")
        assert ran.exit_code == 0 and ran.output.strip().splitlines()[-1].startswith(f"{name} as of 2026-01-31")


@pytest.mark.parametrize("args", [("--lease-seconds", "0"), ("--lease-seconds", "lots"), ("--every-seconds", "0.1"),
                                  ("--every-seconds", "-5"), ("--sideways",)])
def test_the_scheduler_refuses_bad_options_and_starts_nothing(run, db, args):
    from loyalty.core.models import JobRun, SchedulerLease

    result = run("scheduler", *args)
    assert result.exit_code == 2 and ("Invalid value" in result.output or "No such option" in result.output)
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(JobRun)) == 0
        assert session.scalar(select(func.count()).select_from(SchedulerLease)) == 0
