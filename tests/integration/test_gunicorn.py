"""The production command, `gunicorn -c gunicorn.conf.py wsgi:app`, as a real server with two workers on
a free port against the test database: slow clients don't stall it, a long export is not cut by the
worker timeout, a broken one ends as an incomplete response, the rate limit is shared through Redis.

These processes run on the real clock: nothing here depends on the date."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.factories import create_member

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(database_url: str, log: Path, *extra: str, app: str = "wsgi:app", **env: str):
    port = _free_port()
    environment = {
        **os.environ,
        "LOYALTY_DATABASE_URL": database_url,
        "LOYALTY_BIND": f"127.0.0.1:{port}",
        "LOYALTY_WORKERS": "2",
        "LOYALTY_LOG_JSON": "1",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *extra, app]
    with open(log, "w") as stderr:
        server = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _records(log: Path) -> list[dict]:
    """The app's JSON records in a log that gunicorn's master and two workers write at once (a line
    may end in gunicorn's own plain-text notice, e.g. "Handling signal: term", at shutdown)."""
    decoder = json.JSONDecoder()
    return [decoder.raw_decode(line)[0] for line in log.read_text().splitlines() if line.startswith("{")]


def test_slow_clients_do_not_stall_the_service(database_url, db, client, auth, tmp_path):
    member = create_member(client, auth)
    key = auth("staff")["Authorization"]
    log = tmp_path / "gunicorn.log"
    with gunicorn(database_url, log) as base:
        port = int(base.rsplit(":", 1)[1])
        slow: list[socket.socket] = []
        for _ in range(6):  # warm both workers (first connection, key check) so the timing is of stalls only
            requests.get(f"{base}/v1/members/{member['id']}", headers={"Authorization": key}, timeout=10)
        try:
            for _ in range(3):  # headers never finished
                sock = socket.create_connection(("127.0.0.1", port))
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                slow.append(sock)
            for _ in range(3):  # an authenticated POST whose body never arrives whole
                sock = socket.create_connection(("127.0.0.1", port))
                sock.sendall(
                    b"POST /v1/members HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b"Authorization: " + key.encode() + b'\r\nContent-Length: 4000\r\n\r\n{"name": "sl'
                )
                slow.append(sock)
            time.sleep(1.0)  # let both workers take the slow connections in
            for _ in range(6):  # new connections each time, so both workers answer
                started = time.monotonic()
                assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
                read = requests.get(f"{base}/v1/members/{member['id']}", headers={"Authorization": key}, timeout=5)
                assert read.status_code == 200 and read.json()["id"] == member["id"]
                assert time.monotonic() - started < 1.0
        finally:
            for sock in slow:
                sock.close()
    # Two workers counting in memory: the start says so in a JSON line.
    warnings = [r for r in _records(log) if r.get("event") == "rate_limit_per_worker"]
    assert warnings and warnings[0]["level"] == "warning" and warnings[0]["workers"] == 2


def _segment(client, auth, members: int) -> str:
    for _ in range(members):
        create_member(client, auth)
    response = client.post("/v1/segments", json={"name": "all", "filters": {}}, headers=auth("staff"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_an_export_longer_than_the_worker_timeout_arrives_whole(database_url, db, client, auth, tmp_path):
    segment = _segment(client, auth, 12)
    # 6 batches 0.8 s apart: about 5 s of streaming against a 2 s worker timeout.
    with gunicorn(
        database_url,
        tmp_path / "gunicorn.log",
        "--timeout",
        "2",
        app="tests.integration.export_wsgi:app",
        LOYALTY_TEST_EXPORT_DELAY="0.8",
    ) as base:
        response = requests.get(f"{base}/v1/segments/{segment}/export.csv", headers=auth("staff"), timeout=30)
    assert response.status_code == 200
    lines = response.text.splitlines()
    assert lines[0].startswith("id,member_number") and len(lines) == 13


def test_an_export_broken_midway_is_reported_incomplete(database_url, db, client, auth, tmp_path):
    segment = _segment(client, auth, 8)
    with gunicorn(
        database_url,
        tmp_path / "gunicorn.log",
        app="tests.integration.export_wsgi:app",
        LOYALTY_TEST_EXPORT_FAIL_AFTER="2",
    ) as base:
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            _ = requests.get(f"{base}/v1/segments/{segment}/export.csv", headers=auth("staff"), timeout=30).content
        host, port = base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            connection.request("GET", f"/v1/segments/{segment}/export.csv", headers=auth("staff"))
            response = connection.getresponse()
            assert response.status == 200
            with pytest.raises(http.client.IncompleteRead):
                response.read()
        finally:
            connection.close()


def test_the_rate_limit_is_shared_between_workers_through_redis(database_url, db, auth, tmp_path):
    redis = pytest.importorskip("redis")
    store = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2)
    try:
        store.ping()
    except redis.RedisError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    headers = auth("staff")  # a new key per run: its counter's name is this run's own
    prefix = headers["Authorization"].split("_")[1]
    log = tmp_path / "gunicorn.log"
    try:
        with gunicorn(
            database_url,
            log,
            LOYALTY_RATE_LIMIT="10 per minute",
            LOYALTY_RATE_LIMIT_STORAGE_URL="redis://127.0.0.1:6379/0",
        ) as base:
            statuses = []
            for _ in range(15):
                with requests.Session() as fresh:  # a new connection each time: both workers take some
                    response = fresh.get(f"{base}/v1/members", headers={**headers, "Connection": "close"}, timeout=5)
                statuses.append(response.status_code)
        assert statuses.count(200) == 10 and statuses.count(429) == 5, statuses
        assert not [r for r in _records(log) if r.get("event") == "rate_limit_per_worker"]
    finally:
        for name in store.scan_iter(match=f"*key:{prefix}*"):
            store.delete(name)
        store.close()
