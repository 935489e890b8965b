"""A Hypothesis state machine drives the real services against the real database:
earn, replay, refund, hold, capture, cancel, release, expire, adjust, with the clock moving, and
points.balances storing balances between them. After every step the ledger's invariants must hold."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule
from sqlalchemy import func, select

from loyalty.core.errors import LoyaltyError
from loyalty.members.service import create_member
from loyalty.orders import refunds
from loyalty.orders.service import post_order
from loyalty.points import balances, jobs
from loyalty.points.models import LedgerEntry, PointAccount, PointLot
from loyalty.points.service import InsufficientPoints, adjust, balance
from loyalty.program.service import update_program
from loyalty.redemptions import service as redemptions
from loyalty.redemptions.models import Redemption

_ids = itertools.count(1)


def make_machine(db):
    class Ledger(RuleBasedStateMachine):
        orders = Bundle("orders")
        holds = Bundle("holds")

        def __init__(self):
            super().__init__()
            self.now = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
            with db.unit_of_work() as session:
                update_program(session, changes={"expiry_months": 2, "pending_days": 3, "hold_minutes": 30})
                self.member_id = create_member(session, data={"name": f"sm {next(_ids)}"}, actor="test").id
            self.debt_seen = 0

        def _do(self, action):
            with db.unit_of_work() as session:
                return action(session)

        @rule(target=orders, amount=st.integers(1, 500), age=st.sampled_from([0, 0, 1, 5, 70]))
        def earn(self, amount, age):
            # Orders may arrive late: some are already past the return window, some past expiry.
            order_id = f"sm-o-{next(_ids)}"
            placed_at = self.now - timedelta(days=age)
            data = {
                "order_id": order_id,
                "member_id": self.member_id,
                "placed_at": placed_at,
                "channel": "online",
                "shipping": Decimal(0),
                "tax": Decimal(0),
                "items": [
                    {
                        "sku": "t",
                        "category": "tea",
                        "quantity": 1,
                        "unit_price": Decimal(amount),
                        "discount": Decimal(0),
                    }
                ],
            }
            order, created = self._do(lambda s: post_order(s, data=data, actor="sm", now=self.now))
            assert created
            return (order_id, data)

        @rule(order=orders)
        def replay_order(self, order):
            _order, created = self._do(lambda s: post_order(s, data=order[1], actor="sm", now=self.now))
            assert not created

        @rule(order=orders, share=st.one_of(st.just(100), st.integers(1, 100)), replay=st.booleans())
        def refund(self, order, share, replay):
            order_id, data = order
            amount = (data["items"][0]["unit_price"] * share / 100).quantize(Decimal("0.01"))
            body = {"refund_id": f"sm-r-{next(_ids)}", "amount": amount}
            for _ in range(2 if replay else 1):
                try:
                    self._do(lambda s: refunds.refund(s, order_id=order_id, data=body, actor="sm", now=self.now))
                except LoyaltyError as error:
                    assert error.status == 422  # over-refund: nothing written
            self.debt_seen = max(self.debt_seen, self._debt())
            if self.debt_seen:
                event("a refund made a debt")

        @rule(target=holds, points=st.integers(1, 400), capture=st.booleans())
        def hold(self, points, capture):
            try:
                held = self._do(
                    lambda s: redemptions.hold(
                        s,
                        data={"member_id": self.member_id, "points": points, "capture": capture},
                        actor="sm",
                        now=self.now,
                    )
                )
            except InsufficientPoints as error:
                assert error.extra["available"] < points
                return None
            return held.id

        @rule(amount=st.integers(1, 500), spend=st.integers(1, 100), share=st.integers(1, 100))
        def earn_spend_refund(self, amount, spend, share):
            # The path to a negative balance (spend what an order earned, then refund it), made common.
            order = self.earn(amount, age=5)
            available = self._do(lambda s: balance(s, member_id=self.member_id, now=self.now))["available"]
            if available * spend // 100 > 0:
                self._do(
                    lambda s: redemptions.hold(
                        s,
                        data={"member_id": self.member_id, "capture": True, "points": available * spend // 100},
                        actor="sm",
                        now=self.now,
                    )
                )
            self.refund(order, share, replay=False)

        @rule()
        def spend_everything(self):
            # Spending all then refunding is the path to a negative balance; make it common.
            available = self._do(lambda s: balance(s, member_id=self.member_id, now=self.now))["available"]
            if available > 0:
                self._do(
                    lambda s: redemptions.hold(
                        s,
                        data={"member_id": self.member_id, "points": available, "capture": True},
                        actor="sm",
                        now=self.now,
                    )
                )

        @rule(redemption_id=consumes(holds))
        def capture(self, redemption_id):
            if redemption_id:
                try:
                    self._do(lambda s: redemptions.capture(s, redemption_id=redemption_id, actor="sm", now=self.now))
                except LoyaltyError as error:
                    assert error.code == "redemption_not_held"

        @rule(redemption_id=consumes(holds))
        def cancel(self, redemption_id):
            if redemption_id:
                try:
                    self._do(lambda s: redemptions.cancel(s, redemption_id=redemption_id, now=self.now))
                except LoyaltyError as error:
                    assert error.code == "redemption_not_held"

        @rule(points=st.integers(-300, 300).filter(bool))
        def adjust(self, points):
            try:
                self._do(
                    lambda s: adjust(s, member_id=self.member_id, points=points, reason="sm", actor="sm", now=self.now)
                )
            except InsufficientPoints:
                assert points < 0

        @rule(days=st.integers(0, 40), minutes=st.integers(0, 60))
        def advance(self, days, minutes):
            self.now += timedelta(days=days, minutes=minutes)

        @rule(days=st.one_of(st.just(0), st.integers(1, 70)))
        def count_balances_then_wait(self, days):
            """Stored now, read later: on this side of the stored balance's time or past it."""
            self._do(lambda s: balances.count_stale(s, after="", now=self.now))
            self.now += timedelta(days=days)

        @rule()
        def release_and_expire(self):
            with db.unit_of_work() as session:
                due = list(
                    session.scalars(
                        select(Redemption.id).where(
                            Redemption.member_id == self.member_id,
                            Redemption.status == "held",
                            Redemption.expires_at <= self.now,
                        )
                    )
                )
            for redemption_id in due:
                self._do(lambda s, held=redemption_id: redemptions.release_one(s, redemption_id=held, now=self.now))
            while self._do(lambda s: jobs._expire_batch(s, self.now, self.now))[0]:
                pass

        def _debt(self) -> int:
            with db.unit_of_work() as session:
                account = session.get(PointAccount, self.member_id)
                return account.debt if account else 0

        @invariant()
        def books_balance(self):
            with db.unit_of_work() as session:
                entries = session.scalar(
                    select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
                        LedgerEntry.member_id == self.member_id
                    )
                )
                lots = session.scalar(
                    select(func.coalesce(func.sum(PointLot.remaining), 0)).where(PointLot.member_id == self.member_id)
                )
                held = session.scalar(
                    select(func.coalesce(func.sum(Redemption.points), 0)).where(
                        Redemption.member_id == self.member_id, Redemption.status == "held"
                    )
                )
                account = session.get(PointAccount, self.member_id)
                debt = account.debt if account else 0
                assert entries == lots + held - debt, (entries, lots, held, debt)
                assert (
                    session.scalar(select(func.min(PointLot.remaining)).where(PointLot.member_id == self.member_id))
                    in (None,)
                    or session.scalar(select(func.min(PointLot.remaining)).where(PointLot.member_id == self.member_id))
                    >= 0
                )
                duplicates = session.execute(
                    select(LedgerEntry.kind, LedgerEntry.source_type, LedgerEntry.source_id)
                    .where(LedgerEntry.member_id == self.member_id)
                    .group_by(LedgerEntry.kind, LedgerEntry.source_type, LedgerEntry.source_id)
                    .having(func.count() > 1)
                ).all()
                assert duplicates == []
                available = balance(session, member_id=self.member_id, now=self.now)["available"]
                # What segments read (the stored balance while it holds, else the lots live) agrees.
                assert self._read(session, self.now) == available
            # Only a refund may push the balance below zero, and then by no more than it reversed.
            if debt == 0:
                assert available >= 0
            else:
                assert available == -debt and debt <= self.debt_seen

        @invariant()
        def stored_balances_agree(self):
            """Counted by points.balances now (in a transaction rolled back after), the balance segments
            read is the available points now and at later instants: past a lot's maturity or expiry,
            the stored one no longer holds and the lots are counted again."""
            with db.sessions() as session:
                # This member's account (ids are in creation order: the earlier examples' come before).
                balances.count_stale(session, after=self.member_id[:-1], now=self.now)
                for later in (timedelta(0), timedelta(days=3), timedelta(days=61)):
                    live = balance(session, member_id=self.member_id, now=self.now + later)["available"]
                    assert self._read(session, self.now + later) == live, later
                session.rollback()

        def _read(self, session, at: datetime) -> int:
            read = balances.available(at)
            return session.scalar(select(read.c.points).where(read.c.member_id == self.member_id)) or 0

    return Ledger


def test_ledger_invariants_hold_under_any_sequence(db, app):  # the app: the services' wiring, also when run alone
    machine = make_machine(db)
    machine.TestCase.settings = settings(
        max_examples=60, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    machine.TestCase().runTest()
