"""The rate limits of the web pages (login form, test alerts), from the server's shared limiter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from flask_login import current_user

from server.limits import TOO_MANY, limiter
from server.limits import login_limit as login_rate


def login_limit(view: Callable[..., Any]) -> Callable[..., Any]:
    """Limit login attempts per client address, at the same rate as the API's login."""
    return limiter.limit(login_rate, methods=["POST"], error_message=TOO_MANY)(view)


def _test_alert_rate() -> str:
    return str(current_app.config["LEADBRIDGE_RATELIMIT_TEST_ALERTS"])


def _person() -> str:
    # Per person, not per address: colleagues behind one office address each get their own.
    return f"user:{current_user.user.id}" if current_user.is_authenticated else "anonymous"


# One budget across every "Send a test alert" button of a person.
test_alert_limit = limiter.shared_limit(
    _test_alert_rate, scope="test-alerts", key_func=_person, error_message=TOO_MANY
)
