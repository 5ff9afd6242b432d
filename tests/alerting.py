"""Shared pieces of the alert tests: a clock the test moves, SMTP on loopback, fixtures.

The fixtures are loaded for every test module by tests/conftest.py (pytest_plugins); a module
that uses `dispatcher` defines its own `smtp` fixture, with the retry count it needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from flask import Flask

from server.alerts.dispatcher import Dispatcher
from server.db_types import utcnow
from tests.peers import SmtpRecorder, WebhookReceiver


class Clock:
    """A clock that stands still until the test moves it.

    It starts a few seconds ahead so that jobs written during the test are due, and it
    does not follow real time, so a retry delayed by even a millisecond is not due yet.
    """

    def __init__(self) -> None:
        self.now = utcnow() + timedelta(seconds=5)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@contextmanager
def smtp_for(
    app: Flask, monkeypatch: pytest.MonkeyPatch, *, max_attempts: int = 3
) -> Iterator[SmtpRecorder]:
    """Run an SMTP recorder on loopback and point app's alerts at it, with quick retries."""
    with SmtpRecorder() as recorder:
        monkeypatch.setitem(app.config, "LEADBRIDGE_SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "LEADBRIDGE_SMTP_PORT", recorder.port)
        monkeypatch.setitem(app.config, "LEADBRIDGE_ALERT_MAX_ATTEMPTS", max_attempts)
        monkeypatch.setitem(app.config, "LEADBRIDGE_ALERT_TIMEOUT_SECONDS", 1.0)
        monkeypatch.setitem(app.config, "LEADBRIDGE_ALERT_RETRY_BASE_SECONDS", 1.0)
        yield recorder


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """Yield an HTTP receiver of webhooks on loopback."""
    with WebhookReceiver() as hooks:
        yield hooks


@pytest.fixture
def clock() -> Clock:
    """Return a clock that moves only when the test moves it."""
    return Clock()


@pytest.fixture
def dispatcher(app: Flask, smtp: SmtpRecorder, clock: Clock) -> Dispatcher:
    """Return a dispatcher of the test app on the test's clock (smtp: the module's own)."""
    return Dispatcher(app, clock=clock)
