"""The rate limit on the web login form, from the server's shared limiter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server.limits import TOO_MANY, limiter
from server.limits import login_limit as login_rate


def login_limit(view: Callable[..., Any]) -> Callable[..., Any]:
    """Limit login attempts per client address, at the same rate as the API's login."""
    return limiter.limit(login_rate, methods=["POST"], error_message=TOO_MANY)(view)
