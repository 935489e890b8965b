"""The demo program: a tea-and-gifts shop in Shanghai with four tiers and a few dozen members."""

from __future__ import annotations

import os
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty.care.rule_settings import put_rule
from loyalty.core.auth import create_key
from loyalty.core.db import Database, utcnow
from loyalty.members.models import Member
from loyalty.members.service import create_member
from loyalty.orders.service import post_order
from loyalty.program.service import get_program, update_program
from loyalty.tiers.models import Tier

TIERS = [
    ("regular", "Regular", 0, "0", "0", "1", "Points on every purchase"),
    ("silver", "Silver", 1, "2000", "3", "1.2", "3% off, birthday gift"),
    ("gold", "Gold", 2, "8000", "5", "1.5", "5% off, free gift wrapping, priority service"),
    ("vip", "VIP", 3, "30000", "10", "2", "10% off, personal adviser, invitations to tastings"),
]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
]
_CITIES = ["上海", "北京", "杭州", "苏州", "南京", "广州", "深圳", "成都"]
_OCCUPATIONS = ["teacher", "engineer", "doctor", "designer", "accountant", "student", "retired", "shop owner"]
_TAGS = ["tea lover", "gift buyer", "prefers phone", "price sensitive", "outgoing", "reserved", "corporate"]
DEMO_MEMBERS = 36


def load_demo(session: Session, *, seed: int = 7) -> str:
    if session.scalar(select(func.count()).select_from(Member)):
        return "the database already has members; demo not loaded"
    update_program(
        session,
        changes={
            "name": "Demo Tea House",
            "currency": "CNY",
            "timezone": "Asia/Shanghai",
            "holiday_country": "CN",
            "exchange_rates": {"USD": Decimal("7.10"), "HKD": Decimal("0.91")},
            "signup_bonus": 100,
            "first_order_bonus": 200,
            "birthday_bonus": 300,
            "referral": {
                "referrer_points": 500,
                "referee_points": 200,
                "min_order_amount": Decimal("100"),
                "monthly_cap": 5,
                "total_cap": 50,
                "link_template": "https://tea.example/join?ref={code}",
            },
        },
    )
    for code, name, rank, threshold, discount, multiplier, benefits in TIERS:
        session.merge(
            Tier(
                code=code,
                name=name,
                rank=rank,
                threshold=Decimal(threshold),
                discount_percent=Decimal(discount),
                earn_multiplier=Decimal(multiplier),
                benefits=benefits,
            )
        )
    session.flush()
    rng = random.Random(seed)
    for index in range(DEMO_MEMBERS):
        name = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
        member = create_member(
            session,
            actor="demo",
            data={
                "external_id": f"shop-{1000 + index}",
                "name": name,
                # A domain of its own: tests load the demo beside members made by tests/factories.py.
                "email": f"member{index:02d}@demo.tea.example",
                "phone": f"+86 139 {rng.randrange(1000, 9999)} {index:04d}",
                "birthday": date(1960, 1, 1) + timedelta(days=rng.randrange(0, 365 * 45)),
                "gender": rng.choice(["female", "male", "female", "undisclosed"]),
                "city": rng.choice(_CITIES),
                "occupation": rng.choice(_OCCUPATIONS),
                "locale": "zh-CN",
                "tags": rng.sample(_TAGS, rng.randrange(0, 3)),
                "consent": {
                    "email": rng.random() < 0.8,
                    "sms": rng.random() < 0.6,
                    "phone": rng.random() < 0.7,
                    "push": rng.random() < 0.3,
                    "marketing": rng.random() < 0.5,
                },
            },
        )
        _demo_orders(session, rng, member.id, index)
    session.flush()
    for kind, fields in DEMO_CARE.items():
        put_rule(session, kind=kind, data=fields)
    program = get_program(session)
    return f"loaded demo program {program.name!r}: {len(TIERS)} tiers, {DEMO_MEMBERS} members"


DEMO_CARE = {
    "birthday": {
        "enabled": True,
        "channel": "sms",
        "days_before": 3,
        "template": "{{ name }}，生日快乐！{{ program }} 送您 {{ gift_points }} 积分。",
    },
    "holiday": {
        "enabled": True,
        "channel": "email",
        "days_before": 1,
        "template": "{{ name }}，{{ program }} 祝您{{ occasion_name }}快乐！",
        "custom_dates": [{"date": "05-20", "name": "Tea House Day"}],
    },
    "anniversary": {
        "enabled": True,
        "channel": "email",
        "template": "{{ name }}，感谢您陪伴 {{ program }} {{ years }} 年。",
    },
    "follow_up": {"enabled": True, "channel": "phone", "days_after": 7, "template": "回访 {{ name }}：首单体验如何？"},
    "win_back": {"enabled": True, "channel": "sms", "template": "{{ name }}，好久不见，新茶已到店。"},
}

_PRICES = ["38", "68", "128", "268", "588", "1288", "2888", "6888"]


def _demo_orders(session: Session, rng: random.Random, member_id: str, index: int) -> None:
    """A year of purchases, posted like a checkout would, so points, lots and tiers are real."""
    now = utcnow()
    placed = sorted(
        now - timedelta(days=rng.randrange(1, 365), hours=rng.randrange(0, 24))
        for _ in range(rng.choice([0, 1, 2, 3, 5, 8]))
    )
    for number, placed_at in enumerate(placed):
        price = Decimal(rng.choice(_PRICES))
        post_order(
            session,
            actor="demo",
            now=now,
            data={
                "order_id": f"demo-{index:02d}-{number}",
                "member_id": member_id,
                "placed_at": placed_at,
                "currency": "CNY",
                "channel": rng.choice(["online", "pos"]),
                "store_id": None,
                "items": [
                    {
                        "sku": f"tea-{rng.randrange(1, 40):02d}",
                        "category": "tea",
                        "quantity": rng.randrange(1, 4),
                        "unit_price": price,
                        "discount": Decimal(0),
                    }
                ],
                "shipping": Decimal(0),
                "tax": Decimal(0),
            },
        )


def ensure_admin_key(database: Database, path: Path) -> str:
    """A working admin key kept in `path`, so `make run` can show it every time."""
    from loyalty.core.auth import KeyVerifier, Unauthorized

    if path.exists():
        key = path.read_text().strip()
        try:
            KeyVerifier(database.sessions, ttl=0).verify(f"Bearer {key}")
            return key
        except Unauthorized:
            pass
    with database.unit_of_work() as session:
        _row, key = create_key(session, role="admin", name="demo admin (make run)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key + "\n")
    os.chmod(path, 0o600)
    return key
