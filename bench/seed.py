"""Bulk members for benchmarks: COPY, not the API, so a million take seconds."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from loyalty.core.ids import luhn_check_digit

COLUMNS = ("id", "member_number", "name", "search_name", "phone", "consent", "status", "tier_code",
           "enrolled_at", "updated_at")


def member_id(n: int) -> str:
    return f"mbr_bench{n:010d}"


def member_number(n: int) -> str:
    payload = f"{10**10 + n:011d}"
    return payload + str(luhn_check_digit(payload))


def phone(n: int) -> str:
    return f"+86139{n:08d}"


def seed_members(connection, count: int, *, tier: str | None = None) -> None:
    now = datetime.now(timezone.utc).isoformat()
    consent = json.dumps({"email": True, "sms": True, "phone": True, "push": False, "marketing": True})
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY members ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for n in range(count):
                name = f"Bench Member {n}"
                copy.write_row((member_id(n), member_number(n), name, name.casefold(), phone(n), consent, "active",
                                tier, now, now))
    connection.commit()
