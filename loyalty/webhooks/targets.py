"""Resolving a webhook's host and deciding, address by address, whether it may be reached.

Checked twice: when a URL is registered (so an admin hears at once that it is refused) and when
each attempt connects, because a name's answers can change between the two (DNS rebinding). The
attempt then connects to the very address that was checked (see `transport`).
"""

from __future__ import annotations

import ipaddress
import socket

from loyalty.webhooks.rules import Address, Target, parse_target, refusal


class Refused(Exception):
    """The target is not one webhooks may be sent to; the message says why."""


def resolve(host: str, port: int) -> list[str]:
    """The addresses a name has now (tests replace this function to answer without DNS)."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def addresses(target: Target) -> list[Address]:
    if target.address is not None:
        return [target.address]
    try:
        found = resolve(target.host, target.port)
    except (OSError, UnicodeError) as error:
        raise Refused(f"`{target.host}` does not resolve ({type(error).__name__}).") from None
    if not found:
        raise Refused(f"`{target.host}` does not resolve.")
    return [ipaddress.ip_address(str(address).split("%", 1)[0]) for address in found]


def check(url: str, *, allow_private: bool) -> None:
    """At registration: Refused unless the URL is well formed and (with private targets not
    allowed) every address its host has is a public one."""
    try:
        target = parse_target(url)
    except ValueError as error:
        raise Refused(str(error)) from None
    if not allow_private:
        _public(target, addresses(target))


def pin(url: str, *, allow_private: bool) -> tuple[Target, Address]:
    """At connection time: the target and the one checked address the attempt must connect to."""
    try:
        target = parse_target(url)
    except ValueError as error:
        raise Refused(str(error)) from None
    found = addresses(target)
    if not allow_private:
        _public(target, found)
    return target, found[0]


def _public(target: Target, found: list[Address]) -> None:
    # Any private answer refuses the name: a resolver may hand out the answers in any order.
    for address in found:
        reason = refusal(address)
        if reason and target.address is not None:
            raise Refused(f"`{target.host}` is not a public address: {reason}.")
        if reason:
            raise Refused(f"`{target.host}` resolves to {reason}.")
