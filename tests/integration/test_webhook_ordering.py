"""A subscription's events reach a real receiver in the order they were written, also when many
share one millisecond (ids alone once let the random part decide), with two deliverers sharing the work."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import time_machine
from werkzeug import Response

from loyalty.core.db import Database, utcnow
from loyalty.scheduler import run_job
from loyalty.webhooks import delivery, outbox, service
from tests.clock import now, today
from tests.factories import create_member, post_order


class Recorder:
    """The receiver: keeps each body in arrival order and answers 204."""

    def __init__(self, httpserver) -> None:
        self.bodies: list[dict] = []
        self._lock = threading.Lock()
        httpserver.expect_request("/ordered", method="POST").respond_with_handler(self.handle)

    def handle(self, request):
        with self._lock:
            self.bodies.append(json.loads(request.get_data()))
        return Response(status=204)


def subscribe(db, httpserver, events: list[str]) -> None:
    with db.unit_of_work() as session:
        service.create_subscription(session, url=httpserver.url_for("/ordered"), events=events, allow_private=True)


def deliver_with_two_deliverers(database_url, config) -> None:
    """Two scheduler processes' deliverers at once, each on its own engine: they share the work
    through the claim (SKIP LOCKED on PostgreSQL, one writer at a time on SQLite)."""

    def run():
        database = Database(database_url)
        try:
            run_job("webhooks.deliver", db=database, config=config, as_of=today())
        finally:
            database.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)


def test_events_of_one_millisecond_arrive_in_the_order_written(database_url, db, config, httpserver):
    receiver = Recorder(httpserver)
    subscribe(db, httpserver, ["member.created", "order.points_awarded"])
    written = 0
    # The clock stands still: every id below is made in the same millisecond.
    with time_machine.travel(now() + timedelta(seconds=1, microseconds=500), tick=False):
        with db.unit_of_work() as session:  # several in one transaction
            for _ in range(12):
                outbox.emit(session, "member.created", {"member_id": f"mbr_{written:03}", "n": written})
                written += 1
        for _ in range(12):  # then one transaction each
            with db.unit_of_work() as session:
                outbox.emit(session, "order.points_awarded", {"member_id": f"mbr_{written:03}", "n": written})
                written += 1
        with db.unit_of_work() as session:  # and a batch job's one statement
            outbox.emit_many(
                session, "member.created", [{"member_id": f"mbr_{n:03}", "n": n} for n in range(written, written + 12)]
            )
            written += 12
    deliver_with_two_deliverers(database_url, config)
    assert [body["data"]["n"] for body in receiver.bodies] == list(range(written))


def test_a_member_is_announced_before_the_points_of_their_first_order(
    database_url, db, config, client, auth, httpserver
):
    """The reported case: enrolment and the first order in the same millisecond, many members."""
    receiver = Recorder(httpserver)
    subscribe(db, httpserver, ["member.created", "order.points_awarded"])
    members = []
    with time_machine.travel(now() + timedelta(seconds=1, microseconds=250), tick=False):
        for i in range(8):
            member = create_member(client, auth)
            post_order(client, auth, member["id"], f"first-{i}", "120")
            members.append(member["id"])
    deliver_with_two_deliverers(database_url, config)
    expected = [(kind, member_id) for member_id in members for kind in ("member.created", "order.points_awarded")]
    assert [(body["type"], body["data"]["member_id"]) for body in receiver.bodies] == expected


def test_writers_at_the_same_time_in_one_millisecond_keep_each_ones_order(database_url, db, config, httpserver):
    """Four processes' writers at once, all in one millisecond: no two events get one id (they step
    past the same last id by random amounts), and each writer's events, one transaction after the
    other, arrive in the order it wrote them."""
    receiver = Recorder(httpserver)
    subscribe(db, httpserver, ["order.points_awarded"])
    failures: list[BaseException] = []

    def write(writer: int):
        database = Database(database_url)
        try:
            for n in range(15):
                with database.unit_of_work() as session:
                    outbox.emit(session, "order.points_awarded", {"member_id": f"mbr_{writer}", "n": n})
        except BaseException as error:
            failures.append(error)
        finally:
            database.dispose()

    with time_machine.travel(now() + timedelta(seconds=1), tick=False):
        threads = [threading.Thread(target=write, args=(writer,)) for writer in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert not failures
    deliver_with_two_deliverers(database_url, config)
    assert len(receiver.bodies) == 60
    for writer in range(4):
        assert [b["data"]["n"] for b in receiver.bodies if b["data"]["member_id"] == f"mbr_{writer}"] == list(range(15))


@pytest.mark.postgres_only
def test_a_deliverer_does_not_fan_out_later_events_while_another_fans_out_earlier_ones(
    database_url, db, config, httpserver
):
    """Two deliverers' fan-outs side by side once let the second (skipping the events the first held)
    commit the later events' deliveries and send them first."""
    receiver = Recorder(httpserver)
    subscribe(db, httpserver, ["member.created"])
    later = now() + timedelta(seconds=1)
    with time_machine.travel(later, tick=True):
        with db.unit_of_work() as session:
            outbox.emit(session, "member.created", {"member_id": "mbr_first", "n": 0})
        other = Database(database_url)
        try:
            with other.unit_of_work() as first:  # the first deliverer, fanning out, not yet committed
                assert delivery.fan_out(first, now=utcnow()) == (1, 1)
                with db.unit_of_work() as session:  # written after the first event was committed
                    outbox.emit(session, "member.created", {"member_id": "mbr_second", "n": 1})
                with db.unit_of_work() as second:  # the second deliverer finds the fan-out busy
                    assert delivery.fan_out(second, now=utcnow()) == (0, 0)
                    assert delivery.claim(second, now=utcnow()) == []
        finally:
            other.dispose()
        deliver_with_two_deliverers(database_url, config)
    assert [body["data"]["n"] for body in receiver.bodies] == [0, 1]
