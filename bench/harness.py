"""What every benchmark needs: a fresh PostgreSQL database, bulk-seeded members, gunicorn, wrk."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BASE_URL = os.environ.get("LOYALTY_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PORT = int(os.environ.get("LOYALTY_BENCH_PORT", "8100"))
BIN = Path(sys.executable).parent
# The size every 1,000,000-member benchmark runs at unless its own variable says otherwise.
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "1000000"))


def size(variable: str) -> int:
    return int(os.environ.get(variable, MEMBERS))


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown cpu"


def machine() -> str:
    return (
        f"{os.cpu_count()} cores, {cpu_model()}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def postgres_version() -> str:
    with _admin() as connection:
        return connection.execute("SHOW server_version").fetchone()[0]


def job(url: str, name: str, *args: str, command: list[str] | None = None) -> dict:
    """`loyalty jobs run NAME` as its own process: wall seconds (start-up included), its summary line,
    and its own peak RSS from wait4 (RUSAGE_CHILDREN would be the largest of every child so far, and
    `python -m bench` runs many jobs at many sizes in one process). `command`: another way to start it
    (bench/pinned_clock.py)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as errors:
        process = subprocess.Popen(
            [*(command or [str(BIN / "loyalty")]), "jobs", "run", name, *args],
            env={**os.environ, "LOYALTY_DATABASE_URL": url, "LOYALTY_LOG_LEVEL": "WARNING"},
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            cwd=ROOT,
        )
        out = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)  # reaped here, so Popen never sees the status
        seconds = round(time.perf_counter() - started, 2)
        process.returncode = os.waitstatus_to_exitcode(status)
        process.stdout.close()
        if process.returncode:
            errors.seek(0)
            raise RuntimeError(f"{name} exited {process.returncode}: {errors.read().strip()[-2000:]}")
    return {
        "seconds": seconds,
        "summary": out.strip().splitlines()[-1],
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def program_today(url: str) -> date:
    """Today in the program's time zone: what `--as-of` means. The host's date is not it (at 18:00 UTC
    Shanghai is already tomorrow, and a review as of yesterday leaves every fresh member alone)."""
    with psql(url) as connection:
        row = connection.execute("SELECT timezone FROM program LIMIT 1").fetchone()
    zone = row[0] if row else os.environ.get("LOYALTY_PROGRAM_TIMEZONE", "Asia/Shanghai")
    return datetime.now(UTC).astimezone(ZoneInfo(zone)).date()


def _admin():
    url = make_url(BASE_URL)
    return psycopg.connect(
        host=url.host, port=url.port or 5432, user=url.username, dbname=url.database, autocommit=True
    )


@contextlib.contextmanager
def fresh_database(name_hint: str):
    name = f"loyalty_bench_{name_hint}_{uuid.uuid4().hex[:6]}"
    with _admin() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(BASE_URL).set(database=name).render_as_string(hide_password=False)
    try:
        subprocess.run(
            [str(BIN / "loyalty"), "db", "upgrade"],
            env={**os.environ, "LOYALTY_DATABASE_URL": url},
            check=True,
            capture_output=True,
        )
        yield url
    finally:
        with _admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def settle(connection) -> None:
    """Write back what setting up wrote (a seed, a million rows rewritten) before what is measured
    next, so the measured job doesn't share the disk with the set-up's checkpoint (the campaign's
    dispatch ran at 6,245 touches/s behind the seed's write-back, 8,263-9,729 after it)."""
    connection.commit()
    connection.autocommit = True
    connection.execute("CHECKPOINT")
    connection.autocommit = False


def psql(url: str):
    parsed = make_url(url)
    return psycopg.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username, dbname=parsed.database)


def create_key(url: str, role: str) -> str:
    out = subprocess.run(
        [str(BIN / "loyalty"), "keys", "create", "--role", role, "--name", f"bench {role}"],
        env={**os.environ, "LOYALTY_DATABASE_URL": url},
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def gunicorn(url: str, *, workers: int, app: str = "wsgi:app", extra_env: dict | None = None):
    env = {
        **os.environ,
        "LOYALTY_DATABASE_URL": url,
        "LOYALTY_RATE_LIMIT": "100000000 per minute",
        "LOYALTY_LOG_LEVEL": "WARNING",
        "LOYALTY_API_KEY_CACHE_SECONDS": "300",
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{PORT}",
            "--worker-class",
            "sync",
            "--threads",
            "1",  # the published figures are sync workers; gunicorn.conf.py's threads would switch to gthread
            "--keep-alive",
            "5",
            "--log-level",
            "warning",
            app,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        yield f"http://127.0.0.1:{PORT}"
    finally:
        process.terminate()
        process.wait(20)


def wrk(
    url: str, *, script: Path, duration: int = 15, connections: int = 16, threads: int = 2, env: dict | None = None
) -> dict:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    ).stdout
    return parse_wrk(out)


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(out: str) -> dict:
    result = {"raw": out}
    result["requests_per_second"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    result["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    for pct in ("50", "75", "90", "99"):
        match = re.search(rf"\s{pct}(?:\.000)?%\s+([\d.]+\w+)", out)
        if match:
            result[f"p{pct}_ms"] = round(_ms(match.group(1)), 3)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(errors.group(1)) if errors else 0
    return result


def save(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": name, "machine": machine(), "at": datetime.now(UTC).isoformat(), **result}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({k: v for k, v in result.items() if k != "raw"}, indent=2, default=str))
    return path
