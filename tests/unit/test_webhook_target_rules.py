"""Every spelling a resolver accepts for an IPv4 address is read as that address, and every
non-public address is refused, whatever its spelling (loyalty.webhooks.rules, pure)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.webhooks.rules import parse_target, refusal

addresses = st.integers(min_value=0, max_value=2**32 - 1).map(ipaddress.IPv4Address)


def spellings(address: ipaddress.IPv4Address) -> list[str]:
    value, parts = int(address), list(address.packed)
    return [
        str(address),
        str(value),
        hex(value),
        "0" + oct(value)[2:],
        ".".join(hex(p) for p in parts),
        ".".join("0" + oct(p)[2:] for p in parts),
        f"{parts[0]}.{(value & 0xFFFFFF)}",
        f"{parts[0]}.{parts[1]}.{value & 0xFFFF}",
        f"[::ffff:{address}]",
    ]


@given(addresses)
def test_every_spelling_is_the_same_address_and_refused_alike(address):
    refused = refusal(address) is not None
    for spelling in spellings(address):
        target = parse_target(f"http://{spelling}/hook")
        assert (refusal(target.address) is not None) == refused, spelling
        if not spelling.startswith("["):  # the IPv4-mapped IPv6 spelling is judged by the address inside
            assert target.address == address, spelling


@given(addresses)
def test_only_globally_reachable_unicast_addresses_pass(address):
    public = address.is_global and not address.is_multicast and not address.is_reserved
    assert (refusal(address) is None) == public


@pytest.mark.parametrize(
    "url",
    [
        "ftp://h.example/",
        "http://u:p@h.example/",
        "http:///x",
        "http://h.example:99999/",
        "http://h.example:0/",
        "http://h example/",
        "http://1.2.3.4.5/",
        "http://a..b/",
    ],
)
def test_malformed_urls_are_refused(url):
    with pytest.raises(ValueError):
        parse_target(url)


def test_names_are_left_to_the_resolver_and_ports_default_by_scheme():
    target = parse_target("https://Hooks.Example.TEST./in")
    assert (target.host, target.port, target.address, target.host_header) == (
        "hooks.example.test",
        443,
        None,
        "hooks.example.test",
    )
    assert parse_target("http://[2606:4700::1111]:8080/").host_header == "[2606:4700::1111]:8080"
