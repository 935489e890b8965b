"""`loyalty import members` of 100,000 and 1,000,000 members on PostgreSQL (issue 14: a million
in under 3 minutes on this machine, memory flat).

The file is what a shop's export looks like: every row with an external id, a name (Chinese or
Latin), an email and a national mobile number, most with a birthday, consent, tags, an enrolment
date, an opening balance, some with a tier and a kept member number. The command runs as the
shop would run it, in its own process; peak RSS is that process's high-water mark (wait4).
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import time
from pathlib import Path

from bench.harness import BIN, ROOT, fresh_database, psql, save

SIZES = [int(n) for n in os.environ.get("BENCH_IMPORT_MEMBERS", "100000,1000000").split(",")]
COLUMNS = [
    "external_id",
    "member_number",
    "name",
    "email",
    "phone",
    "birthday",
    "gender",
    "city",
    "tags",
    "enrolled_at",
    "consent_email",
    "consent_sms",
    "consent_marketing",
    "points",
    "tier",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
LATIN = ["Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Mia", "Leo", "Chloe", "Ethan"]
CITIES = ["上海", "北京", "杭州", "深圳", "广州", "成都", "Singapore", "London"]
TAGS = ["", "", "vip", "tea", "wine;vip", "student"]
MOBILE = ["130", "131", "135", "136", "137", "138", "139", "150", "151", "158", "159", "186", "188"]


def _luhn(payload: str) -> str:
    total = 0
    for index, char in enumerate(reversed(payload)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return payload + str((10 - total % 10) % 10)


def write_file(path: Path, rows: int, seed: int = 14) -> Path:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for n in range(rows):
            chinese = n % 3 != 0
            name = (
                (rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN))
                if chinese
                else f"{rng.choice(LATIN)} {rng.choice(LATIN)}son"
            )
            writer.writerow(
                [
                    f"S-{n:08d}",
                    _luhn(f"9{n:010d}") if n % 10 == 0 else "",  # a tenth keep their printed card numbers
                    name,
                    f"member{n}@example{n % 97}.com",
                    f"{rng.choice(MOBILE)}{n:08d}",  # unique national mobile numbers
                    f"{rng.randint(1950, 2006)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if n % 4 else "",
                    rng.choice(["female", "male", "", "undisclosed"]),
                    rng.choice(CITIES),
                    rng.choice(TAGS),
                    f"{rng.randint(2015, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    rng.choice(["yes", "no", ""]),
                    rng.choice(["true", "false"]),
                    rng.choice(["1", "0"]),
                    str(rng.randint(0, 20000)) if n % 5 else "",
                    rng.choice(["", "", "", "silver", "gold", "regular"]),
                ]
            )
    return path


def _ladder(url: str) -> None:
    with psql(url) as connection:
        connection.execute(
            "INSERT INTO tiers (code, name, rank, threshold, discount_percent, earn_multiplier, benefits) VALUES "
            "('regular', 'Regular', 0, 0, 0, 1, ''), ('silver', 'Silver', 1, 2000, 3, 1.2, ''), "
            "('gold', 'Gold', 2, 8000, 5, 1.5, '')"
        )
        connection.commit()


def _import(url: str, path: Path) -> dict:
    env = {**os.environ, "LOYALTY_DATABASE_URL": url, "LOYALTY_LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(BIN / "loyalty"), "import", "members", str(path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "exit_code": process.returncode,
        "summary": out.strip(),
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def _count(url: str, table: str) -> int:
    with psql(url) as connection:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def run() -> dict:
    results = {}
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        path = write_file(work / f"members-{size}.csv", size)
        megabytes = round(path.stat().st_size / 1e6, 1)
        with fresh_database("import_members") as url:
            _ladder(url)
            first = _import(url, path)
            again = _import(url, path)  # a re-run: every row is existing, nothing doubles
            members, lots = _count(url, "members"), _count(url, "point_lots")
        path.unlink()
        results[f"{size:,} members"] = {
            **first,
            "rows_per_second": round(size / first["seconds"]) if first["seconds"] else None,
            "file_megabytes": megabytes,
            "members": members,
            "lots": lots,
            "re_run": {"exit_code": again["exit_code"], "summary": again["summary"], "seconds": again["seconds"]},
        }
    result = {"sizes": results, "target": "1,000,000 members under 180 s, memory flat"}
    save("import_members", result)
    return result
