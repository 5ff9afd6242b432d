"""Rate limits on logging in, pairing and syncing (Flask-Limiter).

One ``limiter`` serves the process. Its counters live in memory by default, which is
right for one process on a laptop; with several gunicorn workers or machines they must
be shared, so production points ``LEADBRIDGE_RATELIMIT_STORAGE_URL`` (or, failing that,
``LEADBRIDGE_REDIS_URL``) at Redis. Limits are read from the app's config on every
request, so each app (and each test) may set its own; ``LEADBRIDGE_RATELIMIT_ENABLED``
switches them off per app, which the extension's own process-wide flag cannot do.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# A limited endpoint answers 429 with this message in the API's error shape.
TOO_MANY = "Too many requests; wait before trying again (see Retry-After)."


def sync_key() -> str:
    """Key sync limits by tablet: a venue's tablets usually share one public address."""
    header = request.headers.get("Authorization", "")
    if not header:
        return "addr:" + get_remote_address()
    # Never keep the token itself in the counter store, only a digest of it.
    return "token:" + hashlib.sha256(header.encode("utf-8", "replace")).hexdigest()[:32]


def _configured(name: str) -> Callable[[], str]:
    """Return a provider that reads one limit string from the current app's config."""

    def provider() -> str:
        return str(current_app.config[name])

    return provider


login_limit = _configured("LEADBRIDGE_RATELIMIT_LOGIN")
pairing_limit = _configured("LEADBRIDGE_RATELIMIT_PAIRING")
sync_limit = _configured("LEADBRIDGE_RATELIMIT_SYNC")

# A moving window counts exactly: a fixed window would let twice the limit through
# around the turn of each window.
limiter = Limiter(key_func=get_remote_address, key_prefix="leadbridge", strategy="moving-window")


@limiter.request_filter
def _disabled_for_this_app() -> bool:
    return not current_app.config.get("LEADBRIDGE_RATELIMIT_ENABLED", True)


# A tablet's status, push and pull draw on one budget: what matters is its request rate.
_sync = limiter.shared_limit(sync_limit, scope="sync", key_func=sync_key, error_message=TOO_MANY)
# endpoint -> decorator; the web login form adds its own (server/web/limits.py).
ENDPOINT_LIMITS: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "auth.Login": limiter.limit(login_limit, error_message=TOO_MANY),
    "devices.Pair": limiter.limit(pairing_limit, error_message=TOO_MANY),
    "sync.Status": _sync,
    "sync.Push": _sync,
    "sync.Pull": _sync,
}


def storage_url(config: dict[str, Any]) -> str:
    """Return where counters live: the configured URL, else Redis when set, else memory."""
    return (
        config.get("LEADBRIDGE_RATELIMIT_STORAGE_URL")
        or config.get("LEADBRIDGE_REDIS_URL")
        or "memory://"
    )


def init_limits(app: Flask) -> None:
    """Bind the limiter to app and limit the endpoints of ENDPOINT_LIMITS (already registered)."""
    app.config.update(
        {
            # Per-app switching is done by the request filter above.
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": storage_url(app.config),
            # No X-RateLimit-* headers: reading the window for them cost every limited
            # request a second round trip to Redis. A 429 still says when to retry (below).
            "RATELIMIT_HEADERS_ENABLED": False,
            # A Redis outage must not take logins and sync down with it.
            "RATELIMIT_SWALLOW_ERRORS": True,
        }
    )
    limiter.init_app(app)
    app.after_request(_retry_after)
    for endpoint, decorate in ENDPOINT_LIMITS.items():
        view = app.view_functions[endpoint]
        if view not in _limited:
            # Blueprints' views are shared by every app made in the process: wrap each once.
            _limited[view] = decorate(view)
        app.view_functions[endpoint] = _limited[view]


_limited: dict[Callable[..., Any], Callable[..., Any]] = {}


def _retry_after(response: Response) -> Response:
    """Tell a refused client how many seconds until its window lets a request through."""
    if response.status_code == 429 and "Retry-After" not in response.headers:
        breached = limiter.current_limit
        if breached is not None:
            wait = int(breached.reset_at - time.time())
            response.headers["Retry-After"] = str(max(1, wait))
    return response
