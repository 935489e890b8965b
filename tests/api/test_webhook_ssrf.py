"""Webhooks can't be aimed inward: private targets are refused when registered and again when each
attempt connects. Nothing here is sent anywhere: host names are answered by a stub resolver, and a
stub transport records any connection that would have been made."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from loyalty.config import Config
from loyalty.scheduler import run_job
from loyalty.webhooks import targets, transport
from tests.clock import now, today
from tests.conftest import make_config
from tests.factories import create_member

PUBLIC = "93.184.215.14"  # answered by the stub resolver only: nothing is ever sent to it


@pytest.fixture
def config(database_url):
    return make_config(database_url, webhook_allow_private=False)


@pytest.fixture
def dns(monkeypatch):
    """name -> addresses; a name not listed fails the test (no real lookup is ever made)."""
    answers: dict[str, list[str]] = {}

    def resolve(host, port):
        assert host in answers, f"unexpected DNS lookup of {host}"
        return answers[host]

    monkeypatch.setattr(targets, "resolve", resolve)
    return answers


@pytest.fixture
def connections(monkeypatch):
    """Every connection an attempt would open; none is opened."""
    made: list[str] = []

    def refuse(self, request, *args, **kwargs):
        made.append(request.url)
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(transport.PinnedAdapter, "send", refuse)
    return made


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:5432/",
        "http://LOCALHOST./",
        "http://api.localhost/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0x7f000001/",
        "http://2130706433/",
        "http://017700000001/",
        "http://127.1/",
        "http://0177.0.0.1/",
        "http://0x7f.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.255.255.1/",
        "http://172.16.0.1/",
        "http://192.168.1.1:8080/",
        "http://100.64.0.1/",
        "http://[fc00::1]/",
        "http://[fd12:3456::1]/",
        "http://[fe80::1]/",
        "http://224.0.0.1/",
        "http://[ff02::1]/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://0/",
        "http://240.0.0.1/",
        "http://255.255.255.255/",
        "http://[2002:7f00:1::]/",
        "http://[64:ff9b::a00:1]/",
        "https://10.0.0.1:8443/hook",
    ],
)
def test_private_targets_are_refused_when_registered(client, auth, dns, connections, url):
    response = client.post("/v1/webhooks", json={"url": url, "events": ["tier.changed"]}, headers=auth())
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["code"] == "validation_error" and "url" in body["errors"]
    assert "public address" in body["errors"]["url"][0] or "loopback" in body["errors"]["url"][0], body
    assert client.get("/v1/webhooks", headers=auth()).get_json()["data"] == []
    assert connections == []


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://user:secret@hooks.example.test/", "user name"),
        ("http://1.2.3.4.5/", "not a valid one"),
        ("http://999.1.1.1/", "not a valid one"),
    ],
)
def test_malformed_targets_are_refused_saying_why(client, auth, dns, url, why):
    response = client.post("/v1/webhooks", json={"url": url, "events": ["tier.changed"]}, headers=auth())
    assert response.status_code == 422 and why in response.get_json()["errors"]["url"][-1], response.get_json()


def test_a_name_is_refused_when_any_of_its_addresses_is_private(client, auth, dns):
    dns["hooks.example.test"] = [PUBLIC, "10.0.0.5"]
    dns["hooks2.example.test"] = ["::1"]
    for url in ("https://hooks.example.test/in", "https://hooks2.example.test/in"):
        response = client.post("/v1/webhooks", json={"url": url, "events": ["tier.changed"]}, headers=auth())
        assert response.status_code == 422 and "resolves to" in response.get_json()["errors"]["url"][0]
    dns["hooks.example.test"] = [PUBLIC]
    response = client.post(
        "/v1/webhooks", json={"url": "https://hooks.example.test/in", "events": ["tier.changed"]}, headers=auth()
    )
    assert response.status_code == 201


def test_a_name_that_does_not_resolve_is_refused(client, auth, monkeypatch):
    def fail(host, port):
        raise OSError("no such name")

    monkeypatch.setattr(targets, "resolve", fail)
    response = client.post(
        "/v1/webhooks", json={"url": "https://nowhere.example.test/", "events": ["tier.changed"]}, headers=auth()
    )
    assert response.status_code == 422 and "does not resolve" in response.get_json()["errors"]["url"][0]


def test_a_name_rebound_to_a_private_address_is_refused_at_connection_without_connecting(
    client, auth, db, config, dns, connections
):
    dns["hooks.example.test"] = [PUBLIC]
    made = client.post(
        "/v1/webhooks", json={"url": "http://hooks.example.test/in", "events": ["member.created"]}, headers=auth()
    )
    assert made.status_code == 201
    dns["hooks.example.test"] = ["169.254.169.254"]  # DNS rebinding: the name now points inward
    create_member(client, auth)
    counts = run_job("webhooks.deliver", db=db, config=config, as_of=today())
    assert counts["sent"] == 1 and counts["retrying"] == 1, counts
    assert connections == []
    [delivery] = client.get(f"/v1/webhooks/{made.get_json()['id']}/deliveries", headers=auth()).get_json()["data"]
    [attempt] = delivery["attempts"]
    assert delivery["status"] == "pending" and attempt["status_code"] is None
    assert attempt["error"].startswith("Refused") and "169.254.169.254" in attempt["error"], attempt
    dns["hooks.example.test"] = [PUBLIC, "10.1.2.3"]  # one private answer among public ones is enough
    with time_machine.travel(now() + timedelta(minutes=5), tick=False):
        run_job("webhooks.deliver", db=db, config=config, as_of=today())
    assert connections == []


def test_a_ping_to_a_rebound_name_is_refused_without_connecting(client, auth, dns, connections):
    dns["hooks.example.test"] = [PUBLIC]
    made = client.post(
        "/v1/webhooks", json={"url": "http://hooks.example.test/in", "events": ["member.created"]}, headers=auth()
    ).get_json()
    dns["hooks.example.test"] = ["127.0.0.1"]
    answer = client.post(f"/v1/webhooks/{made['id']}/ping", headers=auth()).get_json()
    assert answer["delivered"] is False and answer["error"].startswith("Refused") and connections == []


def test_a_url_changed_to_a_private_target_is_refused(client, auth, dns):
    dns["hooks.example.test"] = [PUBLIC]
    made = client.post(
        "/v1/webhooks", json={"url": "http://hooks.example.test/in", "events": ["member.created"]}, headers=auth()
    ).get_json()
    response = client.patch(f"/v1/webhooks/{made['id']}", json={"url": "http://2130706433:5432/"}, headers=auth())
    assert response.status_code == 422 and "url" in response.get_json()["errors"]
    assert client.get(f"/v1/webhooks/{made['id']}", headers=auth()).get_json()["url"] == "http://hooks.example.test/in"


def test_private_targets_are_allowed_only_when_configured(monkeypatch):
    monkeypatch.delenv("LOYALTY_WEBHOOK_ALLOW_PRIVATE", raising=False)
    assert Config.from_env().webhook_allow_private is False
    monkeypatch.setenv("LOYALTY_WEBHOOK_ALLOW_PRIVATE", "true")
    assert Config.from_env().webhook_allow_private is True
    targets.check("http://127.0.0.1:9/hook", allow_private=True)
    with pytest.raises(targets.Refused):
        targets.check("http://127.0.0.1:9/hook", allow_private=False)
    with pytest.raises(targets.Refused):  # the scheme and userinfo rules hold either way
        targets.check("http://u:p@127.0.0.1:9/hook", allow_private=True)
