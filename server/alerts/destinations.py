"""Refuse to post alerts to addresses inside the server's own network.

Event managers and reps type webhook URLs. Without a check, a URL such as
``http://169.254.169.254/...`` or ``http://localhost:6379/`` would make the server send
requests into its own network (server-side request forgery). So before each delivery
the host is resolved and every address it names must be a public one, unless it lies in
LEADBRIDGE_WEBHOOK_ALLOWED_NETWORKS (comma-separated CIDR blocks, for a CRM inside the
company network). The check runs at delivery, not only when the URL is saved, because
a name can be pointed somewhere else later.

The HTTP client resolves the name again when it connects, and a DNS server may answer
differently the second time (DNS rebinding). So the dispatcher's sessions
(``checked_session``) also check the address each new connection actually reached,
before a byte is sent. Through an HTTP proxy (``HTTPS_PROXY``), the proxy resolves names
and that second check is the proxy's to make.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationRefused(Exception):
    """The URL points at an address alerts may not go to; the message names no data."""


def parse_networks(text: str | None) -> tuple[IPNetwork, ...]:
    """Return the CIDR blocks of a comma-separated setting; raise ValueError on a bad one."""
    return tuple(
        ipaddress.ip_network(block.strip(), strict=False)
        for block in (text or "").split(",")
        if block.strip()
    )


def _allowed(address: IPAddress, allowed: Iterable[IPNetwork]) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in allowed if network.version == address.version):
        return True
    return address.is_global and not address.is_multicast


def _literal_address(host: str) -> IPAddress | None:
    """Return the address a host names without asking DNS (an IP, or localhost), else None."""
    if host == "localhost" or host.endswith(".localhost"):
        return ipaddress.ip_address("127.0.0.1")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def check_written_destination(url: str, allowed: Iterable[IPNetwork] = ()) -> None:
    """Raise DestinationRefused when url names a refused address outright (no DNS asked).

    For saving a URL: names that resolve inward are caught at delivery (check_destination).
    """
    try:
        host = urlsplit(url).hostname
    except ValueError:
        raise DestinationRefused("unusable URL") from None
    address = _literal_address(host or "")
    if address is not None and not _allowed(address, tuple(allowed)):
        raise DestinationRefused(f"{host} is a private or reserved address")


def check_destination(url: str, allowed: Iterable[IPNetwork] = ()) -> None:
    """Raise DestinationRefused unless every address url's host resolves to may be posted to.

    A host that does not resolve passes: the delivery then fails as a connection error
    and is retried like any other.
    """
    allowed = tuple(allowed)
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise DestinationRefused("unusable URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise DestinationRefused("unusable URL")
    try:
        found = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return
    for *_, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if not _allowed(address, allowed):
            raise DestinationRefused(f"{host} is a private or reserved address")


class _PeerChecked:
    """Connection mixin: refuse a new connection whose peer address alerts may not go to."""

    allowed_networks: tuple[IPNetwork, ...] = ()

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        address = ipaddress.ip_address(sock.getpeername()[0].split("%", 1)[0])
        if not _allowed(address, self.allowed_networks):
            sock.close()
            host = getattr(self, "host", "the host")
            raise DestinationRefused(f"{host} connected to a private or reserved address")
        return sock


def _checked_pools(allowed: tuple[IPNetwork, ...]) -> dict[str, type[HTTPConnectionPool]]:
    """Return urllib3 pool classes whose connections check their peer against allowed."""

    class CheckedHTTPConnection(_PeerChecked, HTTPConnection):
        allowed_networks = allowed

    class CheckedHTTPSConnection(_PeerChecked, HTTPSConnection):
        allowed_networks = allowed

    class CheckedHTTPPool(HTTPConnectionPool):
        ConnectionCls = CheckedHTTPConnection

    class CheckedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = CheckedHTTPSConnection

    return {"http": CheckedHTTPPool, "https": CheckedHTTPSPool}


class _PeerCheckingAdapter(HTTPAdapter):
    """A requests adapter whose direct connections check the address they reached."""

    def __init__(self, allowed: tuple[IPNetwork, ...]):
        self._pools_by_scheme = _checked_pools(allowed)
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pools_by_scheme


def checked_session(allowed: Iterable[IPNetwork] = ()) -> requests.Session:
    """Return a requests session that raises DestinationRefused on connecting to a refused address.

    Closes the window between check_destination's look-up and the client's own: whatever
    a name resolves to when the connection is made, the address reached is checked.
    """
    session = requests.Session()
    adapter = _PeerCheckingAdapter(tuple(allowed))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
