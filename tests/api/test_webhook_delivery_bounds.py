"""A receiver can't exhaust the deliverer: bounded bytes, a total deadline per attempt, one slow
subscription never holding up the others, each subscription's events in the order written; and the
attempt connects to the address that was checked. Every receiver here listens on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select
from werkzeug import Response

from loyalty.scheduler import run_job
from loyalty.webhooks import targets, transport
from loyalty.webhooks.models import Attempt
from tests.api.test_webhooks import Receiver
from tests.clock import now, today
from tests.factories import create_member


class RawReceiver:
    """A tiny threaded HTTP-ish server on 127.0.0.1: reads each request, then `behave(conn, self)`."""

    def __init__(self, behave) -> None:
        self.behave, self.sent, self.closed_at = behave, 0, []
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.threads = [threading.Thread(target=self._serve, daemon=True)]
        self.threads[0].start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            while len(rest) < length:
                rest += conn.recv(65536)
            try:
                self.behave(conn, self)
            except OSError:
                pass  # the deliverer hung up: that is the point
            self.closed_at.append(time.monotonic())

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(10)
        self.sock.close()


@pytest.fixture
def raw():
    servers: list[RawReceiver] = []
    try:
        yield lambda behave: servers.append(RawReceiver(behave)) or servers[-1]
    finally:
        for server in servers:
            server.close()


def huge(conn, server):
    conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 300000000\r\n\r\n")
    chunk = b"x" * 65536
    while server.sent < 300_000_000 and not server.stop.is_set():
        conn.sendall(chunk)
        server.sent += len(chunk)


def drip_headers(conn, server):
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while not server.stop.is_set():  # a byte every 0.2 s: no single read ever waits long
        conn.sendall(b"a")
        time.sleep(0.2)


def silent(conn, server):
    while not server.stop.is_set():  # never answers; ends when the deliverer hangs up
        if conn.recv(1) == b"":
            return


def subscribe(client, auth, url, events=("member.created",)):
    response = client.post("/v1/webhooks", json={"url": url, "events": list(events)}, headers=auth())
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def attempts(client, auth, subscription_id):
    log = client.get(f"/v1/webhooks/{subscription_id}/deliveries", headers=auth()).get_json()["data"]
    return [a for d in log for a in d["attempts"]]


def test_a_huge_answer_is_read_only_a_few_kib(client, auth, db, config, raw):
    server = raw(huge)
    made = subscribe(client, auth, f"http://127.0.0.1:{server.port}/hook")
    create_member(client, auth)
    started = time.monotonic()
    counts = run_job("webhooks.deliver", db=db, config=config, as_of=today())
    assert counts["retrying"] == 1 and time.monotonic() - started < 5, counts
    [attempt] = attempts(client, auth, made["id"])
    assert attempt["status_code"] == 500
    with db.unit_of_work() as session:
        excerpt = session.scalar(select(Attempt.response_excerpt))
    assert 0 < len(excerpt.encode()) <= 4096 and set(excerpt) == {"x"}
    server.stop.set()
    # What the receiver got rid of before the deliverer hung up is what fits in socket buffers.
    assert server.sent < 64_000_000, server.sent


def test_transport_reads_at_most_the_limit(raw):
    server = raw(huge)
    status, answer = transport.post(
        f"http://127.0.0.1:{server.port}/x", body=b"{}", headers={}, allow_private=True, seconds=5, limit=4096
    )
    assert status == 500 and len(answer) == 4096


def test_a_receiver_dripping_bytes_is_cut_off_at_the_deadline(client, auth, db, config, raw):
    server = raw(drip_headers)
    made = subscribe(client, auth, f"http://127.0.0.1:{server.port}/hook")
    create_member(client, auth)
    started = time.monotonic()
    counts = run_job("webhooks.deliver", db=db, config=config.with_(webhook_attempt_seconds=1.0), as_of=today())
    elapsed = time.monotonic() - started
    assert counts["retrying"] == 1 and elapsed < 3.5, (counts, elapsed)
    [attempt] = attempts(client, auth, made["id"])
    assert attempt["status_code"] is None and "within 1 s" in attempt["error"], attempt
    assert 900 <= attempt["duration_ms"] < 3000, attempt


def test_a_slow_subscription_does_not_hold_up_the_others(client, auth, db, config, raw, httpserver):
    slow = raw(silent)
    subscribe(client, auth, f"http://127.0.0.1:{slow.port}/hook")
    holder: dict = {}
    fast = Receiver(httpserver, holder)
    holder.update(subscribe(client, auth, httpserver.url_for("/hook")))
    arrived: list[float] = []
    handle = fast.handle
    fast.handle = lambda request: (arrived.append(time.monotonic()), handle(request))[1]
    httpserver.clear()
    httpserver.expect_request("/hook", method="POST").respond_with_handler(fast.handle)
    members = [create_member(client, auth)["id"] for _ in range(3)]
    counts = run_job("webhooks.deliver", db=db, config=config.with_(webhook_attempt_seconds=3.0), as_of=today())
    assert counts["delivered"] == 3 and counts["retrying"] == 1, counts
    assert [r["body"]["data"]["member_id"] for r in fast.requests] == members  # in the order written
    assert slow.closed_at and max(arrived) < slow.closed_at[0]  # all three before the slow one gave up


def test_a_subscriptions_events_wait_behind_one_being_retried(client, auth, db, config, httpserver):
    holder: dict = {}
    receiver = Receiver(httpserver, holder)
    holder.update(subscribe(client, auth, httpserver.url_for("/hook")))
    receiver.answers = [500]
    members = [create_member(client, auth)["id"] for _ in range(3)]
    first = run_job("webhooks.deliver", db=db, config=config, as_of=today())
    assert first["sent"] == 1 and first["retrying"] == 1, first
    with time_machine.travel(now() + timedelta(minutes=5), tick=False):
        assert run_job("webhooks.deliver", db=db, config=config, as_of=today())["delivered"] == 3
    assert [(r["body"]["data"]["member_id"], r["status"]) for r in receiver.requests] == [
        (members[0], 500),
        (members[0], 204),
        (members[1], 204),
        (members[2], 204),
    ]


def test_a_pinned_connection_goes_to_the_checked_address_with_the_names_host(
    client, auth, db, config, httpserver, monkeypatch
):
    looked_up = []

    def resolve(host, port):
        looked_up.append(host)
        return {"hooks.example.test": ["127.0.0.1"]}[host]

    monkeypatch.setattr(targets, "resolve", resolve)
    hosts = []
    httpserver.expect_request("/in", method="POST").respond_with_handler(
        lambda request: (hosts.append(request.headers["Host"]), Response(status=204))[1]
    )
    subscribe(client, auth, f"http://hooks.example.test:{httpserver.port}/in")
    create_member(client, auth)
    assert run_job("webhooks.deliver", db=db, config=config, as_of=today())["delivered"] == 1
    assert hosts == [f"hooks.example.test:{httpserver.port}"] and looked_up == ["hooks.example.test"]


def test_https_is_verified_for_the_name_not_the_pinned_address(monkeypatch, tmp_path):
    """A local TLS server with a self-signed certificate for hooks.example.test: the deliverer sends the
    name as SNI and refuses the certificate (it is not signed by a trusted authority)."""
    import ssl
    import subprocess

    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=hooks.example.test",
            "-addext",
            "subjectAltName=DNS:hooks.example.test",
            "-keyout",
            str(tmp_path / "key.pem"),
            "-out",
            str(tmp_path / "cert.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)

    listener = context.wrap_socket(socket.create_server(("127.0.0.1", 0)), server_side=True)
    port = listener.getsockname()[1]

    def accept_once():
        try:
            conn, _ = listener.accept()
            conn.close()
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=accept_once, daemon=True)
    thread.start()
    monkeypatch.setattr(targets, "resolve", lambda host, port: ["127.0.0.1"])
    try:
        with pytest.raises(Exception) as caught:
            transport.post(
                f"https://hooks.example.test:{port}/in",
                body=b"{}",
                headers={},
                allow_private=True,
                seconds=5,
                limit=4096,
            )
        assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value) or "certificate verify failed" in str(caught.value)
    finally:
        thread.join(10)
        listener.close()
    assert names == ["hooks.example.test"]
