"""Bulk members for benchmarks: COPY, not the API, so a million take seconds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from loyalty.core.ids import luhn_check_digit

COLUMNS = (
    "id",
    "member_number",
    "name",
    "search_name",
    "phone",
    "consent",
    "status",
    "tier_code",
    "enrolled_at",
    "updated_at",
    "birthday",
)


def member_id(n: int) -> str:
    return f"mbr_bench{n:010d}"


def member_number(n: int) -> str:
    payload = f"{10**10 + n:011d}"
    return payload + str(luhn_check_digit(payload))


def phone(n: int) -> str:
    return f"+86139{n:08d}"


def birthday(n: int):
    """A spread of birthdays over the year (29 February included) and over 1950-2005."""
    from datetime import date

    return date(1950 + n % 56, 1, 1) + timedelta(days=(n * 7919) % 365 + (1 if n % 1461 == 0 else 0))


def seed_members(connection, count: int, *, tier=None) -> None:
    """`tier`: one code for all, or a function of the member's index."""
    now = datetime.now(UTC).isoformat()
    consent = json.dumps({"email": True, "sms": True, "phone": True, "push": False, "marketing": True})
    tier_of = tier if callable(tier) else (lambda n: tier)
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY members ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for n in range(count):
                name = f"Bench Member {n}"
                copy.write_row(
                    (
                        member_id(n),
                        member_number(n),
                        name,
                        name.casefold(),
                        phone(n),
                        consent,
                        "active",
                        tier_of(n),
                        now,
                        now,
                        birthday(n),
                    )
                )
    connection.commit()


LADDER = [
    ("regular", "Regular", 0, 0, 0, 1),
    ("silver", "Silver", 1, 2000, 3, 1.2),
    ("gold", "Gold", 2, 8000, 5, 1.5),
    ("vip", "VIP", 3, 30000, 10, 2),
]


def seed_ladder(connection) -> None:
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO tiers (code, name, rank, threshold, discount_percent, earn_multiplier, benefits) "
            "VALUES (%s, %s, %s, %s, %s, %s, '')",
            LADDER,
        )
    connection.commit()


def seed_lots(connection, count: int, *, expires_in: timedelta = timedelta(days=400), first_id: int = 1) -> None:
    """One matured lot for each of the first `count` members, with its ledger entry, expiring
    `expires_in` from now (negative: already due); ids from `first_id`, so calls can add more."""
    now = datetime.now(UTC)
    matured, expires = (now - timedelta(days=30)).isoformat(), (now + expires_in).isoformat()
    with connection.cursor() as cursor:
        with cursor.copy(
            "COPY ledger_entries (id, member_id, kind, points, created_at, available_at, expires_at, "
            "source_type, source_id) FROM STDIN"
        ) as copy:
            for n in range(count):
                copy.write_row(
                    (
                        first_id + n,
                        member_id(n),
                        "earn",
                        100 + n % 5000,
                        matured,
                        matured,
                        expires,
                        "order",
                        f"seed-{first_id + n}",
                    )
                )
        with cursor.copy(
            "COPY point_lots (id, member_id, entry_id, points, remaining, available_at, expires_at, "
            "created_at) FROM STDIN"
        ) as copy:
            for n in range(count):
                points = 100 + n % 5000
                copy.write_row((first_id + n, member_id(n), first_id + n, points, points, matured, expires, matured))
        cursor.execute("SELECT setval(pg_get_serial_sequence('ledger_entries', 'id'), %s)", (first_id + count,))
        cursor.execute("SELECT setval(pg_get_serial_sequence('point_lots', 'id'), %s)", (first_id + count,))
    connection.commit()


def seed_accounts(connection) -> None:
    """A points account for every member (the row each balance change locks)."""
    connection.execute(
        "INSERT INTO point_accounts (member_id, debt, lifetime_earned, orders_count, updated_at) "
        "SELECT id, 0, 0, 0, now() FROM members"
    )
    connection.commit()


ORDER_COLUMNS = (
    "order_id",
    "member_id",
    "placed_at",
    "currency",
    "exchange_rate",
    "channel",
    "items",
    "shipping",
    "tax",
    "net_amount",
    "eligible_amount",
    "program_amount",
    "points_earned",
    "bonus_points",
    "available_at",
    "refunded_amount",
    "refunded_eligible",
    "points_reversed",
    "points_forgiven",
    "fingerprint",
    "created_at",
)


def seed_orders(connection, count: int, *, per_member: int, spend) -> None:
    """`per_member` orders for each member in the last year, together worth `spend(n)`."""
    now = datetime.now(UTC)
    items = json.dumps([{"sku": "tea-1", "category": "tea", "quantity": 1, "unit_price": "1", "discount": "0"}])
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY orders ({', '.join(ORDER_COLUMNS)}) FROM STDIN") as copy:
            for n in range(count):
                amount = round(spend(n) / per_member, 2)
                for k in range(per_member):
                    placed = (now - timedelta(days=20 + (n * 7 + k * 97) % 300)).isoformat()
                    copy.write_row(
                        (
                            f"seed-{n}-{k}",
                            member_id(n),
                            placed,
                            "CNY",
                            1,
                            "online",
                            items,
                            0,
                            0,
                            amount,
                            amount,
                            amount,
                            int(amount),
                            0,
                            placed,
                            0,
                            0,
                            0,
                            0,
                            "-",
                            placed,
                        )
                    )
    connection.commit()


def seed_standings(connection, count: int, *, earned, kept_until) -> None:
    """Tier standings for members whose `earned(n)` is not None."""
    now = datetime.now(UTC)
    since = (now - timedelta(days=400)).isoformat()
    with connection.cursor() as cursor:
        with cursor.copy("COPY tier_standings (member_id, earned_code, since, kept_until) FROM STDIN") as copy:
            for n in range(count):
                code = earned(n)
                if code is not None:
                    copy.write_row((member_id(n), code, since, kept_until(n).isoformat()))
    connection.commit()
