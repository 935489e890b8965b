"""The queue-like jobs over a backlog, in one process and in two at once (each claims its own batches
with FOR UPDATE SKIP LOCKED): the wall time from the start to the last process done, and who did how much.

- care.dispatch: BENCH_SHARED_TOUCHES touches (20,000 by default) of as many members, all due, quiet
  hours off. CPU-bound in the process (deciding and rendering each touch): on one small machine the two
  processes compete for the same cores; on two machines each has its own.
- webhooks.deliver: BENCH_SHARED_SUBSCRIPTIONS subscriptions (16) x BENCH_SHARED_EVENTS events (40), to a
  receiver on 127.0.0.1 that takes BENCH_SHARED_RECEIVER_MS (200) per request, as a gateway does: bound
  by waiting on the receiver, 8 requests at a time per process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import insert

from bench.harness import BIN, fresh_database, psql, save
from bench.seed import member_id, seed_members
from loyalty.core.signing import new_secret
from loyalty.webhooks.models import Subscription

TOUCHES = int(os.environ.get("BENCH_SHARED_TOUCHES", "20000"))
SUBSCRIPTIONS = int(os.environ.get("BENCH_SHARED_SUBSCRIPTIONS", "16"))
EVENTS = int(os.environ.get("BENCH_SHARED_EVENTS", "40"))
RECEIVER_SECONDS = int(os.environ.get("BENCH_SHARED_RECEIVER_MS", "200")) / 1000


def _prepare(url: str) -> None:
    from loyalty.core.db import Database
    from loyalty.program.service import ensure_program

    database = Database(url)
    try:
        with database.unit_of_work() as session:
            ensure_program(session)
    finally:
        database.dispose()
    with psql(url) as connection:
        seed_members(connection, TOUCHES)
        connection.execute(
            "UPDATE program SET care = %s",
            (json.dumps({"quiet_start": "00:00", "quiet_end": "00:00", "weekly_cap": 2, "send_at": "10:00"}),),
        )
        connection.execute(
            "INSERT INTO care_rules (kind, enabled, channel, template, days_before, days_after, "
            "gift_points, custom_dates, updated_at) VALUES ('birthday', true, 'sms', "
            "'Happy birthday {{ name }}', 3, 0, 0, '[]', now())"
        )
        connection.commit()


def _backlog(url: str) -> None:
    with psql(url) as connection:
        connection.execute("DELETE FROM outbox_events")
        connection.execute("DELETE FROM touches")
        with connection.cursor() as cursor:
            with cursor.copy(
                "COPY touches (id, member_id, kind, occasion, channel, due_at, status, attempts, "
                "created_at, held_out) FROM STDIN"
            ) as copy:
                for n in range(TOUCHES):
                    copy.write_row(
                        (
                            f"tch_bench{n:016d}",
                            member_id(n),
                            "birthday",
                            "2020",
                            "sms",
                            "2020-01-06 12:00:00+00",
                            "planned",
                            0,
                            "2020-01-06 12:00:00+00",
                            False,
                        )
                    )
        connection.execute("ANALYZE touches")
        connection.commit()


def _together(url: str, job: str, processes: int, key: str) -> tuple[float, list[int]]:
    env = {
        **os.environ,
        "LOYALTY_DATABASE_URL": url,
        "LOYALTY_LOG_LEVEL": "WARNING",
        "LOYALTY_WEBHOOK_ALLOW_PRIVATE": "1",
    }
    started = time.perf_counter()
    running = [
        subprocess.Popen(
            [str(BIN / "loyalty"), "jobs", "run", job],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(processes)
    ]
    lines = [p.communicate()[0].strip().splitlines()[-1] for p in running]
    seconds = round(time.perf_counter() - started, 2)
    return seconds, [int(m.group(1)) if (m := re.search(rf"\b{key}=(\d+)", line)) else 0 for line in lines]


def _dispatch(url: str, processes: int) -> dict:
    seconds, sent = _together(url, "care.dispatch", processes, "sent")
    with psql(url) as connection:
        events = connection.execute("SELECT count(DISTINCT data->>'touch_id'), count(*) FROM outbox_events").fetchone()
    assert sum(sent) == TOUCHES and events == (TOUCHES, TOUCHES), (sent, events)
    return {"seconds": seconds, "sent_per_process": sent}


class _Receiver(BaseHTTPRequestHandler):
    received: Counter

    def do_POST(self):
        self.rfile.read(int(self.headers["content-length"]))
        time.sleep(RECEIVER_SECONDS)
        self.received[self.headers["webhook-id"]] += 1  # one thread per request; Counter += is enough here
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def _deliveries(url: str, port: int) -> None:
    """The deliveries, made and due: fanned out here so both runs start from the same backlog."""
    from loyalty.core.db import Database, utcnow
    from loyalty.webhooks import delivery
    from loyalty.webhooks.outbox import emit_many

    with psql(url) as connection:
        for table in ("webhook_attempts", "webhook_deliveries", "outbox_events", "webhook_subscriptions"):
            connection.execute(f"DELETE FROM {table}")
        connection.commit()
    database = Database(url)
    try:
        with database.unit_of_work() as session:
            for n in range(SUBSCRIPTIONS):
                session.execute(
                    insert(Subscription),
                    {
                        "id": f"sub_bench{n:06d}",
                        "url": f"http://127.0.0.1:{port}/{n}",
                        "events": ["touch.due"],
                        "secret": new_secret(),
                        "active": True,
                        "created_at": datetime(2020, 1, 1, tzinfo=UTC),
                    },
                )
            emit_many(session, "touch.due", [{"n": n} for n in range(EVENTS)])
        with database.unit_of_work() as session:
            delivery.fan_out(session, now=utcnow())
    finally:
        database.dispose()


def _deliver(url: str, processes: int, received: Counter, port: int) -> dict:
    received.clear()
    _deliveries(url, port)
    seconds, delivered = _together(url, "webhooks.deliver", processes, "delivered")
    total = SUBSCRIPTIONS * EVENTS
    assert sum(delivered) == total and len(received) == total and set(received.values()) == {1}, delivered
    return {"seconds": seconds, "delivered_per_process": delivered}


def run() -> dict:
    received: Counter = Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Receiver", (_Receiver,), {"received": received}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with fresh_database("shared") as url:
            _prepare(url)
            _backlog(url)
            care_one = _dispatch(url, 1)
            _backlog(url)
            care_two = _dispatch(url, 2)
            hooks_one = _deliver(url, 1, received, server.server_port)
            hooks_two = _deliver(url, 2, received, server.server_port)
    finally:
        server.shutdown()
        server.server_close()
    result = {
        "care_dispatch": {
            "touches": TOUCHES,
            "one_process": care_one,
            "two_processes": care_two,
            "speed_up": round(care_one["seconds"] / care_two["seconds"], 2),
        },
        "webhooks_deliver": {
            "deliveries": SUBSCRIPTIONS * EVENTS,
            "receiver_ms": RECEIVER_SECONDS * 1000,
            "one_process": hooks_one,
            "two_processes": hooks_two,
            "speed_up": round(hooks_one["seconds"] / hooks_two["seconds"], 2),
        },
        "cores": os.cpu_count(),
        "note": "wall time from start to the last process done, each process's start (about 1 s) included",
    }
    save("shared_work", result)
    return result
