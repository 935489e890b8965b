"""Keys may expire, and rotate with a grace period so a shop switches without downtime (issue 12)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from click.testing import CliRunner
from sqlalchemy import select

from loyalty import create_app
from loyalty.cli import main
from loyalty.core.auth import create_key
from loyalty.core.models import ApiKey
from tests.clock import NOW
from tests.conftest import make_config


@pytest.fixture
def cached_client(db, database_url):
    """A worker that caches key rows for 5 minutes: expiry must not wait for the cache."""
    return create_app(make_config(database_url, api_key_cache_seconds=300), database=db).test_client()


@pytest.fixture
def run(database_url, db):
    runner = CliRunner()

    def invoke(*args: str):
        result = runner.invoke(
            main,
            list(args),
            env={"LOYALTY_DATABASE_URL": database_url, "LOYALTY_LOG_JSON": "1"},
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        return result.output.strip().splitlines()

    return invoke


def _bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_an_expired_key_is_401_even_while_cached(cached_client, db):
    with db.unit_of_work() as session:
        _row, key = create_key(session, role="staff", name="temp", expires_at=NOW + timedelta(hours=1))
    assert cached_client.get("/v1/program", headers=_bearer(key)).status_code == 200  # now cached
    with time_machine.travel(NOW + timedelta(hours=1, seconds=1), tick=False):
        response = cached_client.get("/v1/program", headers=_bearer(key))
    assert response.status_code == 401
    assert "expired" in response.get_json()["detail"]


def test_create_with_an_expiry_and_list_shows_it(run, client, db):
    key = run("keys", "create", "--role", "pos", "--name", "pop-up till", "--expires-in-days", "3")[-1]
    listed = "\n".join(run("keys", "list"))
    assert "expires" in listed and f"{NOW + timedelta(days=3):%Y-%m-%d %H:%M}" in listed
    assert client.get("/v1/program", headers=_bearer(key)).status_code == 200
    with time_machine.travel(NOW + timedelta(days=3, minutes=1), tick=False):
        assert client.get("/v1/program", headers=_bearer(key)).status_code == 401
    dated = run(
        "keys", "create", "--role", "pos", "--name", "x", "--expires-at", f"{NOW + timedelta(days=40):%Y-%m-%d}"
    )
    assert dated[-1].startswith("lk_")


def test_create_refuses_a_past_or_doubled_expiry(database_url, db):
    runner = CliRunner()
    env = {"LOYALTY_DATABASE_URL": database_url}
    past = runner.invoke(
        main, ["keys", "create", "--role", "pos", "--name", "x", "--expires-at", "2000-01-01"], env=env
    )
    both = runner.invoke(
        main,
        ["keys", "create", "--role", "pos", "--name", "x", "--expires-at", "2999-01-01", "--expires-in-days", "2"],
        env=env,
    )
    zero = runner.invoke(main, ["keys", "create", "--role", "pos", "--name", "x", "--expires-in-days", "0"], env=env)
    assert past.exit_code != 0 and both.exit_code != 0 and zero.exit_code != 0
    with db.unit_of_work() as session:
        assert session.scalars(select(ApiKey)).all() == []


class _Monotonic:
    """time-machine moves the wall clock; the key cache ages by time.monotonic, moved here."""

    def __init__(self) -> None:
        import time

        self.offset = 0.0
        self._real = time.monotonic

    def monotonic(self) -> float:
        return self._real() + self.offset


def test_rotate_keeps_the_old_key_for_the_grace_period(run, cached_client, db, monkeypatch):
    import loyalty.core.auth

    clock = _Monotonic()
    monkeypatch.setattr(loyalty.core.auth, "time", clock)
    old_key = run("keys", "create", "--role", "storefront", "--name", "shop")[-1]
    old_prefix = old_key.split("_")[1]
    assert cached_client.get("/v1/program", headers=_bearer(old_key)).status_code == 200
    new_key = run("keys", "rotate", old_prefix, "--grace-hours", "2")[-1]
    assert new_key.startswith("lk_") and new_key != old_key
    with db.unit_of_work() as session:
        rows = {row.prefix: row for row in session.scalars(select(ApiKey))}
    new = rows[new_key.split("_")[1]]
    assert (new.role, new.name, new.expires_at) == ("storefront", "shop", None)
    with time_machine.travel(NOW + timedelta(hours=1, minutes=59), tick=False):
        clock.offset = 119 * 60
        assert cached_client.get("/v1/program", headers=_bearer(old_key)).status_code == 200
        assert cached_client.get("/v1/program", headers=_bearer(new_key)).status_code == 200
    # The row cached before the rotation knew no expiry; it was read again at 1:59 (the 5-minute cache
    # time had passed), and from then on the grace period's end applies to the minute.
    with time_machine.travel(NOW + timedelta(hours=2, minutes=1), tick=False):
        clock.offset = 121 * 60
        assert cached_client.get("/v1/program", headers=_bearer(old_key)).status_code == 401
        assert cached_client.get("/v1/program", headers=_bearer(new_key)).status_code == 200


def test_rotate_defaults_to_a_day_and_refuses_unknown_or_dead_keys(run, database_url, db):
    prefix = run("keys", "create", "--role", "pos", "--name", "till")[-1].split("_")[1]
    run("keys", "rotate", prefix)
    with db.unit_of_work() as session:
        old = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).one()
        assert abs(old.expires_at - (NOW + timedelta(hours=24))) < timedelta(minutes=1)
    runner = CliRunner()
    env = {"LOYALTY_DATABASE_URL": database_url}
    assert runner.invoke(main, ["keys", "rotate", "nosuchpx"], env=env).exit_code != 0
    runner.invoke(main, ["keys", "revoke", prefix], env=env)
    assert runner.invoke(main, ["keys", "rotate", prefix], env=env).exit_code != 0
