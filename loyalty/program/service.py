"""Reading and changing the program settings."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, fields
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from loyalty.core.cache import database_key
from loyalty.core.db import insert_for, utcnow
from loyalty.core.errors import ValidationFailed
from loyalty.program.models import Program

PROGRAM_ID = 1
# Settings are read on every checkout; each worker keeps them this long. A change made
# through this process is seen at once; other workers see it within this time.
SETTINGS_TTL_SECONDS = 5.0
_cache: dict[str, tuple[float, ProgramSettings]] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class ProgramSettings:
    """A read-only snapshot of the program for hot paths."""

    name: str
    currency: str
    exchange_rates: dict
    timezone: str
    holiday_country: str
    points_per_unit: Decimal
    point_value: Decimal
    pending_days: int
    pos_pending_days: int | None
    expiry_months: int
    max_redeem_share: Decimal
    tier_metric: str
    referral: dict
    signup_bonus: int
    first_order_bonus: int
    birthday_bonus: int
    excluded_categories: tuple
    hold_minutes: int
    care: dict


CARE_DEFAULTS = {"quiet_start": "21:00", "quiet_end": "09:00", "weekly_cap": 2, "send_at": "10:00"}


def settings(session: Session | Connection | Engine) -> ProgramSettings:
    """The program as a cached snapshot; a bare connection or an engine (the read-only lookups, which
    open a connection only when the cache is stale) works too."""
    key = database_key(session)
    cached = _cache.get(key)
    if cached and time.monotonic() - cached[0] < SETTINGS_TTL_SECONDS:
        return cached[1]
    if isinstance(session, Engine):
        with session.connect() as connection:
            return settings(connection)
    if isinstance(session, Connection):
        with Session(bind=session) as own:
            return settings(own)
    program = get_program(session)
    snapshot = ProgramSettings(
        **{
            f.name: getattr(program, f.name)
            for f in fields(ProgramSettings)
            if f.name not in ("excluded_categories", "care")
        },
        excluded_categories=tuple(program.excluded_categories or ()),
        care={**CARE_DEFAULTS, **(program.care or {})},
    )
    with _cache_lock:
        _cache[key] = (time.monotonic(), snapshot)
    return snapshot


def forget_settings() -> None:
    with _cache_lock:
        _cache.clear()


def default_settings(*, currency: str = "CNY", timezone: str = "Asia/Shanghai", country: str = "CN") -> dict:
    """The contract's defaults; every bonus stays 0 until an admin sets it."""
    return {
        "name": "Loyalty program",
        "currency": currency,
        "exchange_rates": {},
        "timezone": timezone,
        "holiday_country": country,
        "points_per_unit": Decimal(1),
        "point_value": Decimal("0.01"),
        "pending_days": 14,
        "expiry_months": 24,
        "max_redeem_share": Decimal("0.5"),
        "tier_metric": "spend_12m",
        "referral": {
            "referrer_points": 0,
            "referee_points": 0,
            "min_order_amount": "0",
            "monthly_cap": None,
            "total_cap": None,
            "link_template": None,
        },
        "signup_bonus": 0,
        "first_order_bonus": 0,
        "birthday_bonus": 0,
        "excluded_categories": ["gift_card"],
        "hold_minutes": 15,
        "pos_pending_days": None,
        "care": dict(CARE_DEFAULTS),
    }


def ensure_program(session: Session, **defaults: str) -> Program:
    """Create the program row with defaults if there is none (safe under races)."""
    insert = insert_for(session)
    values = default_settings(**defaults)
    session.execute(insert(Program).values(id=PROGRAM_ID, updated_at=utcnow(), **values).on_conflict_do_nothing())
    forget_settings()
    # The insert above leaves a row whether or not it won the race.
    return session.get_one(Program, PROGRAM_ID)


def get_program(session: Session) -> Program:
    program = session.scalar(select(Program).where(Program.id == PROGRAM_ID))
    if program is None:
        program = ensure_program(session)
    return program


def update_program(session: Session, *, changes: dict) -> Program:
    program = get_program(session)
    care = changes.pop("care", None)
    if care:
        program.care = {**CARE_DEFAULTS, **(program.care or {}), **care}
    referral = changes.pop("referral", None)
    if referral:
        merged = dict(program.referral)
        merged.update({k: (str(v) if isinstance(v, Decimal) else v) for k, v in referral.items()})
        program.referral = merged
    if "exchange_rates" in changes:
        changes["exchange_rates"] = {k: str(v) for k, v in changes["exchange_rates"].items()}
    for name, value in changes.items():
        setattr(program, name, value)
    if program.currency in (program.exchange_rates or {}):
        raise ValidationFailed(
            {"exchange_rates": [f"Holds a rate for {program.currency}, the program currency itself."]}
        )
    program.updated_at = utcnow()
    session.flush()
    forget_settings()
    return program
