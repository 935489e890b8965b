"""A chain's layout in small: two app instances (gunicorn, two workers each) and two `loyalty scheduler`
processes on one PostgreSQL database, and a day of work done exactly once.

Members enrol and orders arrive alternately at both instances, each request retried at the other
instance with the same Idempotency-Key (as a load balancer's retry would); a win-back care rule plans
a touch per lapsed member; a webhook subscription sends everything to a receiver on 127.0.0.1. Then:
every order awarded once, every touch sent once, every event delivered once, and the jobs that aren't
queue-like started in one scheduler at a time (the lease holder).

The processes run on the real clock: orders are placed months back and the care settings make a
touch due at once (send at 00:00, no quiet hours), so nothing depends on the time of day."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from loyalty.care.models import Touch
from loyalty.core.models import JobRun
from loyalty.points.models import LedgerEntry, PointAccount
from tests.factories import member_payload, order_payload
from tests.integration.test_gunicorn import gunicorn

pytestmark = pytest.mark.postgres_only

BIN = Path(sys.executable).parent / "loyalty"
MEMBERS = 8
QUEUE_JOBS = {"care.dispatch", "webhooks.deliver", "campaigns.run"}
LEASE_SECONDS = 10
_PROCESS_ENV = {"LOYALTY_WEBHOOK_ALLOW_PRIVATE": "true", "LOYALTY_RATE_LIMIT": "100000 per minute"}


class Receiver:
    """The messaging gateway: records every delivery it is sent."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, dict]] = []
        lock = threading.Lock()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    received.append((self.headers["webhook-id"], body["type"], body["data"]))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of(self, event_type: str) -> list[tuple[str, str, dict]]:
        return [r for r in list(self.received) if r[1] == event_type]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def scheduler(database_url: str, log: Path):
    env = {
        **os.environ,
        "LOYALTY_DATABASE_URL": database_url,
        "LOYALTY_LOG_LEVEL": "WARNING",
        "LOYALTY_STOP_WITH_PARENT": str(os.getpid()),
        **_PROCESS_ENV,
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(BIN), "scheduler", "--lease-seconds", str(LEASE_SECONDS), "--every-seconds", "0.5"],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def _twice(bases: list[str], path: str, body: dict, headers: dict) -> list[requests.Response]:
    """The same request with the same Idempotency-Key at both instances at once; a 409 in flight is
    retried, as a client is told to."""
    headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}

    def send(base: str) -> requests.Response:
        for _ in range(50):
            response = requests.post(f"{base}{path}", json=body, headers=headers, timeout=20)
            if response.status_code != 409 or response.json().get("code") != "idempotency_in_flight":
                return response
            time.sleep(0.1)
        raise AssertionError("still in flight")

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(send, bases))


def _wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what()}")


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.close()


def test_a_day_on_two_instances_and_two_schedulers_is_done_exactly_once(
    database_url, db, client, auth, receiver, tmp_path
):
    admin = auth()
    assert (
        client.patch(
            "/v1/program",
            json={"care": {"quiet_start": "00:00", "quiet_end": "00:00", "send_at": "00:00", "weekly_cap": 5}},
            headers=admin,
        ).status_code
        == 200
    )
    subscription = client.post(
        "/v1/webhooks",
        json={"url": receiver.url, "events": ["member.created", "order.points_awarded", "touch.due"]},
        headers=admin,
    )
    assert subscription.status_code == 201, subscription.get_json()
    staff, storefront = auth("staff"), auth("storefront")

    with contextlib.ExitStack() as stack:
        first = stack.enter_context(gunicorn(database_url, tmp_path / "app1.log", **_PROCESS_ENV))
        second = stack.enter_context(gunicorn(database_url, tmp_path / "app2.log", **_PROCESS_ENV))
        schedulers = [stack.enter_context(scheduler(database_url, tmp_path / f"scheduler{n}.log")) for n in (1, 2)]
        members, orders = [], {}
        for n in range(MEMBERS):
            bases = [first, second] if n % 2 == 0 else [second, first]
            consent = {"email": True, "marketing": True}  # a win-back is marketing
            answers = _twice(bases, "/v1/members", member_payload(consent=consent), staff)
            assert sorted(a.status_code for a in answers) == [201, 201], [a.text for a in answers]
            assert [a.headers.get("Idempotent-Replayed") for a in answers].count("true") == 1
            assert answers[0].json()["id"] == answers[1].json()["id"]
            member = answers[0].json()["id"]
            members.append(member)
            for k, days in enumerate((200, 100)):
                order = f"day-{n}-{k}"
                answers = _twice(
                    bases[::-1] if k else bases,
                    "/v1/orders",
                    order_payload(member, order, "100.00", days_ago=days),
                    storefront,
                )
                assert {a.status_code for a in answers} <= {200, 201}, [a.text for a in answers]
                assert answers[0].json()["points_earned"] == answers[1].json()["points_earned"] == 100
                orders[order] = member
        # Every member has lapsed (last order 100 days ago): the rule plans one touch each.
        rule = requests.put(
            f"{second}/v1/care/rules/win_back",
            json={"enabled": True, "channel": "email", "inactive_days": 30, "template": "We miss you, {{ name }}"},
            headers=admin,
            timeout=20,
        )
        assert rule.status_code == 200, rule.text

        _wait_for(
            lambda: (
                len(receiver.of("touch.due")) >= MEMBERS and len(receiver.of("order.points_awarded")) >= 2 * MEMBERS
            ),
            40,
            lambda: (
                f"touches and orders delivered: {Counter(t for _i, t, _d in receiver.received)}; "
                f"{(tmp_path / 'scheduler1.log').read_text()[-1500:]}"
                f"{(tmp_path / 'scheduler2.log').read_text()[-1500:]}"
            ),
        )
        time.sleep(2.0)  # a few more cycles of both schedulers: nothing more may arrive
        assert all(process.poll() is None for process in schedulers)
        with db.unit_of_work() as session:  # before the stop, whose clean release hands the lease over
            runs = list(session.scalars(select(JobRun)))

    ids = [webhook_id for webhook_id, _type, _data in receiver.received]
    assert len(ids) == len(set(ids)), Counter(ids).most_common(3)
    assert sorted(d["member_id"] for _i, _t, d in receiver.of("member.created")) == sorted(members)
    assert sorted(d["order_id"] for _i, _t, d in receiver.of("order.points_awarded")) == sorted(orders)
    assert sorted(d["member_id"] for _i, _t, d in receiver.of("touch.due")) == sorted(members)

    with db.unit_of_work() as session:
        awarded = session.execute(
            select(LedgerEntry.source_id, func.count(), func.sum(LedgerEntry.points))
            .where(LedgerEntry.source_type == "order")
            .group_by(LedgerEntry.source_id)
        ).all()
        assert {order: (count, points) for order, count, points in awarded} == {o: (1, 100) for o in orders}
        lifetime = dict(session.execute(select(PointAccount.member_id, PointAccount.lifetime_earned)).all())
        assert lifetime == {member: 200 for member in members}
        touches = session.execute(select(Touch.member_id, Touch.kind, Touch.status)).all()
        assert sorted(touches) == sorted((member, "win_back", "sent") for member in members)
    # The queue-like jobs may run in both schedulers at once (each claims its own batches). Every other
    # job starts only in the lease holder: the standby takes over only when the lease ran out, i.e. at
    # least LEASE_SECONDS after the last job the holder started (each start renews it). On a loaded
    # machine a holder may miss its renewals and be taken over; never are the two interleaved.
    leased = sorted((run for run in runs if run.job not in QUEUE_JOBS), key=lambda run: run.started_at)
    assert leased
    pids = {process.pid for process in schedulers}
    assert {int(run.holder.split(":")[1]) for run in leased} <= pids
    for before, after in zip(leased, leased[1:]):
        if after.holder != before.holder:
            gap = (after.started_at - before.started_at).total_seconds()
            assert gap >= LEASE_SECONDS - 1, (before.holder, after.holder, gap)
    assert {"care.plan", "insights.refresh", "care.dispatch", "webhooks.deliver"} <= {run.job for run in runs}
