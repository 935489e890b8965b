"""A segment of 1,000,000 members exported as CSV through `GET /v1/segments/{id}/export.csv`,
served by the production command (`gunicorn -c gunicorn.conf.py`: gthread workers, 30 s worker
timeout) on PostgreSQL. PRODUCT.md section 4: at most 60 s and whole (one row per member, the
chunked body properly ended), with the server's memory flat."""

from __future__ import annotations

import contextlib
import http.client
import os
import subprocess
import time
from pathlib import Path

from bench.harness import BIN, PORT, ROOT, create_key, fresh_database, psql, save, size
from bench.seed import seed_members

MEMBERS = size("BENCH_EXPORT_MEMBERS")


@contextlib.contextmanager
def _production_server(url: str):
    env = {
        **os.environ,
        "LOYALTY_DATABASE_URL": url,
        "LOYALTY_BIND": f"127.0.0.1:{PORT}",
        "LOYALTY_WORKERS": "2",
        "LOYALTY_RATE_LIMIT": "100000 per minute",
        "LOYALTY_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        yield process.pid
    finally:
        process.terminate()
        process.wait(30)


def _peak_rss_mb(master: int) -> float:
    """The largest high-water mark among the master's workers (VmHWM), in MiB."""
    peaks = []
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            if fields.get("PPid", "").strip() == str(master):
                peaks.append(int(fields["VmHWM"].split()[0]) / 1024)
    return round(max(peaks, default=0.0), 1)


def run(members: int | None = None) -> dict:
    members = members or MEMBERS
    from loyalty.campaigns import segments
    from loyalty.core.db import Database

    with fresh_database("export") as url:
        with psql(url) as connection:
            seed_members(connection, members)
            connection.execute("ANALYZE")
            connection.commit()
        db = Database(url)
        with db.unit_of_work() as session:
            segment = segments.create(session, name="everyone", filters=segments.loaded({}), actor="bench")
            segment_id = segment.id
        db.dispose()
        key = create_key(url, "staff")
        with _production_server(url) as master:
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
            connection.request(
                "GET", f"/v1/segments/{segment_id}/export.csv", headers={"Authorization": f"Bearer {key}"}
            )
            response = connection.getresponse()
            first_byte = round(time.perf_counter() - started, 3)
            rows = size = 0
            complete = True
            try:
                for line in response:  # raises IncompleteRead if the chunked body is not ended properly
                    rows += 1
                    size += len(line)
            except http.client.IncompleteRead:
                complete = False
            seconds = round(time.perf_counter() - started, 2)
            peak = _peak_rss_mb(master)
    result = {
        "members": members,
        "status": response.status,
        "rows": rows - 1,
        "complete": complete and response.status == 200 and rows - 1 == members,
        "megabytes": round(size / 1e6, 1),
        "seconds": seconds,
        "first_byte_seconds": first_byte,
        "rows_per_second": round((rows - 1) / seconds) if seconds else None,
        "worker_peak_rss_mb": peak,
        "server": "gunicorn -c gunicorn.conf.py (gthread, 2 workers, 16 threads, timeout 30 s)",
    }
    save("export", result)
    return result
