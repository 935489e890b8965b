"""Two processes share the queue-like jobs' backlog: each claims its own batches (FOR UPDATE SKIP
LOCKED), both do part of the work, and every touch and every webhook delivery goes out exactly once.

The PostgreSQL tests run real `loyalty jobs run` processes on the real clock; the backlog is due
long before any real "now".
Both are held at a table lock until both wait on it, then let go together, so neither gets a head start.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from loyalty.care.models import Touch
from loyalty.core.ids import luhn_check_digit, new_id
from loyalty.members.models import Member
from loyalty.scheduler import SHARED
from loyalty.webhooks import delivery
from loyalty.webhooks.models import Delivery, OutboxEvent
from loyalty.webhooks.outbox import emit_many
from tests.api.test_care import rule

BIN = Path(sys.executable).parent / "loyalty"
LONG_AGO = datetime(2020, 1, 6, 12, 0, tzinfo=UTC)  # due before any clock this runs on
TOUCHES = 2000


def _members(db, count: int) -> list[str]:
    ids = [f"mbr_shared{n:010d}" for n in range(count)]
    rows = [
        {
            "id": member_id,
            "member_number": f"{2 * 10**10 + n:011d}" + str(luhn_check_digit(f"{2 * 10**10 + n:011d}")),
            "name": f"Shared {n}",
            "search_name": f"shared {n}",
            "phone": f"+86138{n:08d}",
            "consent": {"sms": True, "marketing": True},
            "status": "active",
            "enrolled_at": LONG_AGO,
            "updated_at": LONG_AGO,
        }
        for n, member_id in enumerate(ids)
    ]
    with db.unit_of_work() as session:
        session.execute(insert(Member), rows)
    return ids


def _touch_backlog(client, auth, db) -> None:
    """TOUCHES birthday touches (promotional: consent, marketing consent and the weekly cap apply), due."""
    no_quiet = client.patch(
        "/v1/program", json={"care": {"quiet_start": "00:00", "quiet_end": "00:00"}}, headers=auth()
    )
    assert no_quiet.status_code == 200, no_quiet.get_json()
    rule(client, auth, "birthday", channel="sms", template="Happy birthday, {{ name }}")
    rows = [
        {
            "id": new_id("tch"),
            "member_id": member_id,
            "kind": "birthday",
            "occasion": "2020",
            "channel": "sms",
            "due_at": LONG_AGO,
            "status": "planned",
            "attempts": 0,
            "created_at": LONG_AGO,
        }
        for member_id in _members(db, TOUCHES)
    ]
    with db.unit_of_work() as session:
        session.execute(insert(Touch), rows)


def _together(db, table: str, commands: list[list[str]], env: dict) -> tuple[list[str], float]:
    """Start the commands while holding `table` locked against claims; let go once every one waits
    on the lock. Their output lines and the seconds from letting go to the last one finishing."""
    environment = {**os.environ, "LOYALTY_LOG_LEVEL": "WARNING", **env}
    with db.engine.connect() as gate:
        gate.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
        processes = [
            subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for command in commands
        ]
        try:
            deadline = time.monotonic() + 30
            while gate.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = CAST(:t AS regclass) "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"t": table},
            ).scalar() < len(processes):
                assert time.monotonic() < deadline and all(p.poll() is None for p in processes), [
                    p.communicate() for p in processes if p.poll() is not None
                ]
                time.sleep(0.05)
            started = time.perf_counter()
            gate.commit()  # let go: all claim at the same instant
            outputs = [p.communicate(timeout=120) for p in processes]
            seconds = time.perf_counter() - started
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait(10)
    for process, (_out, err) in zip(processes, outputs):
        assert process.returncode == 0, err[-3000:]
    return [out.strip().splitlines()[-1] for out, _err in outputs], seconds


def _count(line: str, key: str) -> int:
    found = re.search(rf"\b{key}=(\d+)", line)
    return int(found.group(1)) if found else 0


def test_the_queue_like_jobs_are_the_ones_every_scheduler_runs():
    assert SHARED == {"care.dispatch", "webhooks.deliver", "campaigns.run"}


@pytest.mark.postgres_only
def test_two_dispatchers_send_every_touch_once_and_share_the_backlog(database_url, client, auth, db, config):
    _touch_backlog(client, auth, db)
    command = [str(BIN), "jobs", "run", "care.dispatch"]
    lines, seconds = _together(db, "touches", [command, command], {"LOYALTY_DATABASE_URL": database_url})
    sent = [_count(line, "sent") for line in lines]
    assert sum(sent) == TOUCHES, lines
    assert min(sent) >= TOUCHES // 5, lines  # both took a real part, not a leftover
    with db.unit_of_work() as session:
        statuses = dict(session.execute(select(Touch.status, func.count()).group_by(Touch.status)).all())
        touch_ids = Counter(
            session.scalars(select(OutboxEvent.data["touch_id"].as_string()).where(OutboxEvent.type == "touch.due"))
        )
    assert statuses == {"sent": TOUCHES}, statuses
    assert len(touch_ids) == TOUCHES and set(touch_ids.values()) == {1}  # one touch.due per touch
    print(f"care.dispatch, two processes: {TOUCHES} touches in {seconds:.2f} s ({lines})")


class _Receiver(BaseHTTPRequestHandler):
    received: Counter
    lock: threading.Lock

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        time.sleep(0.02)  # a receiver that takes a moment, as a gateway does
        with self.lock:
            self.received[(self.headers["webhook-id"], json.loads(body)["data"]["n"])] += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


SUBSCRIPTIONS, EVENTS = 16, 25


@pytest.mark.postgres_only
def test_two_deliverers_send_every_delivery_once_and_share_the_backlog(database_url, client, auth, db, config):
    received: Counter = Counter()
    handler = type("Receiver", (_Receiver,), {"received": received, "lock": threading.Lock()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for n in range(SUBSCRIPTIONS):
            made = client.post(
                "/v1/webhooks",
                json={"url": f"http://127.0.0.1:{server.server_port}/hook/{n}", "events": ["touch.due"]},
                headers=auth(),
            )
            assert made.status_code == 201, made.get_json()
        with db.unit_of_work() as session:  # after the subscriptions: they receive what happens from then on
            emit_many(session, "touch.due", [{"n": n} for n in range(EVENTS)])
        with db.unit_of_work() as session:
            assert (
                delivery.fan_out(session, now=session.scalar(select(func.max(OutboxEvent.occurred_at))))[1]
                == SUBSCRIPTIONS * EVENTS
            )
            session.execute(text("UPDATE webhook_deliveries SET next_attempt_at = :at"), {"at": LONG_AGO})
        command = [str(BIN), "jobs", "run", "webhooks.deliver"]
        lines, seconds = _together(
            db,
            "webhook_deliveries",
            [command, command],
            {"LOYALTY_DATABASE_URL": database_url, "LOYALTY_WEBHOOK_ALLOW_PRIVATE": "1"},
        )
    finally:
        server.shutdown()
        server.server_close()
    sent = [_count(line, "delivered") for line in lines]
    assert sum(sent) == SUBSCRIPTIONS * EVENTS, lines
    assert min(sent) >= SUBSCRIPTIONS * EVENTS // 5, lines
    assert len(received) == SUBSCRIPTIONS * EVENTS and set(received.values()) == {1}, received.most_common(3)
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status != "delivered")) == 0
    print(f"webhooks.deliver, two processes: {SUBSCRIPTIONS * EVENTS} deliveries in {seconds:.2f} s ({lines})")


def test_campaign_runs_of_one_minute_in_two_processes_keep_the_send_rate(client, auth, db, config):
    import time_machine

    from loyalty.scheduler import run_job
    from tests.clock import NOW
    from tests.factories import create_member

    for _ in range(5):
        create_member(client, auth, consent={"sms": True, "marketing": True})
    segment = client.post("/v1/segments", json={"name": "all", "filters": {}}, headers=auth("staff")).get_json()
    campaign = client.post(
        "/v1/campaigns",
        json={
            "name": "Two a minute",
            "segment_id": segment["id"],
            "channel": "sms",
            "send_rate": 2,
            "template": "Hello {{ name }}",
        },
        headers=auth("staff"),
    ).get_json()
    assert client.post(f"/v1/campaigns/{campaign['id']}/launch", headers=auth("staff")).status_code == 200

    def run(seconds: int) -> int:
        with time_machine.travel(NOW + timedelta(minutes=5, seconds=seconds), tick=False):  # after the launch
            return run_job("campaigns.run", db=db, config=config, as_of=NOW.date())["touches"]

    # Each scheduler process fires campaigns.run every minute, a moment apart: one fan-out a minute.
    assert [run(0), run(3), run(60), run(61), run(120), run(121)] == [2, 0, 2, 0, 1, 0]


@pytest.mark.postgres_only
def test_a_member_being_dispatched_elsewhere_is_left_for_later_not_decided_twice(client, auth, db, config):
    """The weekly cap counts what was sent: two dispatchers must not decide one member's touches at once."""
    from loyalty.care.dispatch import dispatch_batch
    from loyalty.core.claims import MEMBERS_IN_DISPATCH, lock_keys

    client.patch("/v1/program", json={"care": {"quiet_start": "00:00", "quiet_end": "00:00"}}, headers=auth())
    rule(client, auth, "birthday", channel="sms", template="Happy birthday, {{ name }}")
    busy, free = _members(db, 2)
    with db.unit_of_work() as session:
        session.execute(
            insert(Touch),
            [
                {
                    "id": new_id("tch"),
                    "member_id": m,
                    "kind": "birthday",
                    "occasion": "2020",
                    "channel": "sms",
                    "due_at": LONG_AGO,
                    "status": "planned",
                    "attempts": 0,
                    "created_at": LONG_AGO,
                }
                for m in (busy, free)
            ],
        )
    with db.sessions() as elsewhere, elsewhere.begin():  # another dispatcher, deciding `busy` right now
        assert lock_keys(elsewhere, MEMBERS_IN_DISPATCH, [busy]) == {busy}
        with db.unit_of_work() as session:
            assert lock_keys(session, MEMBERS_IN_DISPATCH, [busy, free]) == {free}
        with db.unit_of_work() as session:
            assert dispatch_batch(session, now=LONG_AGO) == {"busy": 1, "sent": 1, "looked_at": 1}
    with db.unit_of_work() as session:
        assert dict(session.execute(select(Touch.member_id, Touch.status)).all()) == {busy: "planned", free: "sent"}
        assert dispatch_batch(session, now=LONG_AGO) == {"sent": 1, "looked_at": 1}  # let go: now it goes
