"""The pairing QR code's text: which server to pair with and the one-time code.

The web page shows it (server/web/qr.py) and the tablet's pairing screen reads it
(mobile/screens/pairing.py): ``leadbridge://pair?server=<url>&code=<code>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

SCHEME = "leadbridge"
MAX_LINK = 600


@dataclass(frozen=True)
class PairingLink:
    """A server address and a pairing code, read from a QR code."""

    server_url: str
    code: str


def pairing_link(server_url: str, code: str) -> str:
    """Return the text a pairing QR code carries."""
    return f"{SCHEME}://pair?" + urlencode({"server": server_url, "code": code})


def parse_pairing_link(text: str) -> PairingLink | None:
    """Return the server and code of a pairing QR code's text, or None for any other code."""
    if len(text) > MAX_LINK:
        return None
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        return None
    if parts.scheme != SCHEME or parts.netloc != "pair":
        return None
    query = parse_qs(parts.query)
    server = (query.get("server") or [""])[0].strip().rstrip("/")
    code = (query.get("code") or [""])[0].strip()
    if not server.startswith(("http://", "https://")) or not 0 < len(code) <= 40:
        return None
    return PairingLink(server, code)
