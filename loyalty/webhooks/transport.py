"""One webhook attempt over `requests`, pinned to a checked address, bounded in time and bytes.

- Pinned: the adapter connects to the address `targets.pin` checked, while the request carries the
  URL's host name (Host header; for https the SNI and the certificate check are for that name), so a
  name that answers differently a moment later (DNS rebinding) can't steer the connection.
- Bounded in time: `timeout=(connect, read)` bounds each wait, not their sum: a receiver dripping a
  byte every few seconds would hold an attempt for minutes. A watchdog shuts the socket down when the
  attempt's deadline passes, whatever it is doing (connecting excepted: that has its own timeout).
- Bounded in bytes: the response is streamed and at most `limit` bytes of it are read (a 300 MB
  error page costs nothing); compressed answers are not asked for, so nothing inflates.
- No redirects (the adapter never follows them) and no proxies from the environment.
"""

from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING, Any, Self

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from loyalty.webhooks import targets
from loyalty.webhooks.rules import Address, Target

CONNECT_SECONDS = 3.05


class DeadlinePassed(requests.Timeout):
    pass


class Watchdog:
    """Shuts the attempt's sockets down when its time is up."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.expired = seconds, False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def __enter__(self) -> Self:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    try:  # wakes a thread blocked in recv on it (also under TLS, which reads the same descriptor)
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


if TYPE_CHECKING:
    # A mixin for urllib3's connections: typed as one so its override of `_new_conn` is checked.
    _Connection = HTTPConnection
else:
    _Connection = object


class _Watched(_Connection):
    def __init__(self, *args: Any, watchdog: Watchdog, **kwargs: Any) -> None:
        self._watchdog = watchdog
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self._watchdog.track(sock)
        return sock


class _HTTP(_Watched, HTTPConnection):
    pass


class _HTTPS(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTP


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPS


class PinnedAdapter(HTTPAdapter):
    """Every request through it goes to `address`, whatever its URL's host resolves to."""

    def __init__(self, target: Target, address: Address, watchdog: Watchdog) -> None:
        super().__init__(pool_connections=1, pool_maxsize=1, max_retries=0)
        self._target, self._address, self._watchdog = target, address, watchdog
        self._pool: HTTPConnectionPool | None = None

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: bool | str | None,
        proxies: dict[str, str] | None = None,
        cert: str | tuple[str, str] | None = None,
    ) -> HTTPConnectionPool:
        if self._pool is None:
            if self._target.scheme == "https":
                self._pool = _HTTPSPool(
                    str(self._address),
                    self._target.port,
                    maxsize=1,
                    watchdog=self._watchdog,
                    server_hostname=self._target.host,
                    assert_hostname=self._target.host,
                )
            else:
                self._pool = _HTTPPool(str(self._address), self._target.port, maxsize=1, watchdog=self._watchdog)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        super().close()


def post(
    url: str, *, body: bytes, headers: dict[str, str], allow_private: bool, seconds: float, limit: int
) -> tuple[int, bytes]:
    """(status, the first `limit` bytes of the answer); targets.Refused or a requests error otherwise."""
    target, address = targets.pin(url, allow_private=allow_private)
    request = requests.Request(
        "POST", url, data=body, headers={**headers, "Host": target.host_header, "Accept-Encoding": "identity"}
    ).prepare()
    with Watchdog(seconds) as watchdog:
        adapter = PinnedAdapter(target, address, watchdog)
        try:
            response = adapter.send(
                request, stream=True, timeout=(min(CONNECT_SECONDS, seconds), seconds), verify=True, proxies={}
            )
            if watchdog.expired:  # the status line or headers may have been cut short: not an answer
                response.close()
                raise DeadlinePassed(f"no complete answer within {seconds:g} s")
            try:
                return response.status_code, _some(response, limit)
            finally:
                response.close()
        except (requests.RequestException, OSError) as error:
            if watchdog.expired:
                raise DeadlinePassed(f"no complete answer within {seconds:g} s") from error
            raise
        finally:
            adapter.close()


def _some(response: requests.Response, limit: int) -> bytes:
    """At most `limit` bytes of the body; whatever arrived before the deadline if it is cut short."""
    taken = bytearray()
    try:
        while len(taken) < limit:
            chunk = response.raw.read1(limit - len(taken), decode_content=False)
            if not chunk:
                break
            taken += chunk
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
        pass  # the status is known: a body cut short (by the deadline, say) is still an answer
    return bytes(taken)
