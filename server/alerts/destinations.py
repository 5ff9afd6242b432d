"""Refuse to post alerts to addresses inside the server's own network.

Event managers and reps type webhook URLs. Without a check, a URL such as
``http://169.254.169.254/...`` or ``http://localhost:6379/`` would make the server send
requests into its own network (server-side request forgery). So before each delivery
the host is resolved and every address it names must be a public one, unless it lies in
LEADBRIDGE_WEBHOOK_ALLOWED_NETWORKS (comma-separated CIDR blocks, for a CRM inside the
company network). The check runs at delivery, not only when the URL is saved, because
a name can be pointed somewhere else later.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

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
