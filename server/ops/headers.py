"""Security headers: a strict CSP on HTML pages, no framing, no sniffing, HSTS over HTTPS."""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

# Scripts only from our own origin (no inline script, no eval); inline styles are allowed
# because the pages use small <style> blocks and styles cannot run code.
CSP = (
    "default-src 'self'; script-src 'self'{extra}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Pages whose inline scripts come from the library's own template (never from user
# input): their scripts are allowed by hash, so the API docs keep working under the CSP.
HASHED_SCRIPT_ENDPOINTS = frozenset({"api-docs.openapi_swagger_ui"})
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def script_hashes(html: bytes) -> list[str]:
    """Return CSP source expressions for the inline scripts in html."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]


def content_security_policy(response: Response) -> str:
    """Return the CSP for an HTML response."""
    extra = ""
    if request.endpoint in HASHED_SCRIPT_ENDPOINTS and not response.direct_passthrough:
        extra = "".join(" " + source for source in script_hashes(response.get_data()))
    return CSP.format(extra=extra)


def init_security_headers(app: Flask) -> None:
    """Add the security headers to every response (CSP and framing to HTML pages)."""

    @app.after_request
    def _secure(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            headers.setdefault("Content-Security-Policy", content_security_policy(response))
            headers.setdefault("X-Frame-Options", "DENY")
        hsts = current_app.config.get("LEADBRIDGE_HSTS_SECONDS", 0)
        # Only over HTTPS: browsers ignore it on http, and it must not pin a laptop's http demo.
        if request.is_secure and hsts:
            headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
        return response
