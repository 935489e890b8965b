"""Where a webhook may be sent: pure decisions about URLs and addresses (no DNS, no sockets).

A webhook URL is chosen by whoever holds an admin key, and the deliverer sits inside the shop's
network: without these rules the delivery log is a port scanner for 127.0.0.1, the cloud metadata
service (169.254.169.254) and the private network. Hosts are read the way resolvers read them, so
`0x7f000001`, `2130706433`, `017700000001` and `127.1` are all 127.0.0.1 (inet_aton's forms).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower case, no trailing dot; an IP literal without brackets
    port: int
    address: Address | None  # set when the host is an address literal (in any spelling)

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == {"http": 80, "https": 443}[self.scheme] else f"{name}:{self.port}"


def parse_target(url: str) -> Target:
    """The parts of a webhook URL that decide where it goes; ValueError saying why it can't be one."""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ValueError("A URL has no spaces or control characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("Only http and https URLs are accepted.")
    if "@" in parts.netloc:
        raise ValueError("A webhook URL may not carry a user name or password.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise ValueError("The URL has no host.")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError("The URL's port is not a number from 1 to 65535.")
    port = port or (443 if parts.scheme == "https" else 80)
    address = literal_address(host)
    if address is None:
        host = _ascii(host)  # what DNS, the Host header and SNI carry for an internationalised name
        if not all(_LABEL.match(label) for label in host.split(".")):
            raise ValueError(f"`{host}` is not a valid host name.")
    return Target(parts.scheme, host, port, address)


def _ascii(host: str) -> str:
    try:
        return host.encode("idna").decode()
    except UnicodeError:
        raise ValueError(f"`{host}` is not a valid host name.") from None


def literal_address(host: str) -> Address | None:
    """The address a host spells, or None for a name; ValueError for a number that is no address."""
    if host == "localhost" or host.endswith(".localhost"):
        return ipaddress.IPv4Address("127.0.0.1")  # loopback by definition (RFC 6761), never looked up
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    labels = host.split(".")
    if not _numeric(labels[-1]):
        return None  # a name: it must be resolved
    # A host ending in a number is read as an IPv4 address by resolvers and browsers (WHATWG URL).
    try:
        numbers = [int(label, 0) if not _octal(label) else int(label, 8) for label in labels]
    except ValueError:
        raise ValueError(f"`{host}` looks like an IP address but is not a valid one.") from None
    if len(numbers) > 4 or any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise ValueError(f"`{host}` looks like an IP address but is not a valid one.")
    value = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _numeric(label: str) -> bool:
    return label.isdigit() or (label[:2] in ("0x", "0X") and all(c in "0123456789abcdefABCDEF" for c in label[2:]))


def _octal(label: str) -> bool:
    return len(label) > 1 and label.startswith("0") and label.isdigit()


def refusal(address: Address) -> str | None:
    """Why a webhook may not go to this address, or None when it is a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return refusal(embedded)
    for flag, reason in (
        ("is_unspecified", "an unspecified"),
        ("is_loopback", "a loopback"),
        ("is_link_local", "a link-local"),
        ("is_multicast", "a multicast"),
    ):
        if getattr(address, flag):
            return f"{address} is {reason} address"
    if address in _CGNAT:
        return f"{address} is in the shared address space of carrier-grade NAT (100.64.0.0/10)"
    if isinstance(address, ipaddress.IPv6Address) and address in ipaddress.ip_network("fc00::/7"):
        return f"{address} is a unique local address"
    if address.is_reserved:
        return f"{address} is a reserved address"
    if address.is_private:
        return f"{address} is a private address"
    if not address.is_global:
        return f"{address} is not a globally reachable address"
    return None
