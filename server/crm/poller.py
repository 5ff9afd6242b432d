"""Read CRM outcomes in a thread of the server's own, woken at once by a CRM's webhook.

The alert dispatcher's round polls too, but only between rounds, and a round delivers
every due job first: with a backlog of CRM pushes (a busy show floor, a CRM answering
slowly or throttling) a webhook's outcome waited for the whole backlog, and with RQ
workers for their relay's next round. This thread only polls, so a webhook's outcome is
read as soon as the webhook is answered. Polls are claimed with a compare-and-set and
outcomes applied once (server/crm/outcomes.py), whoever else polls: dispatchers, the
workers' relays, another server process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from flask import Flask

from server.crm.outcomes import POLLER_WAKE, poll_due
from server.db_types import utcnow
from server.extensions import db

log = logging.getLogger(__name__)


class OutcomePoller:
    """Poll the CRMs whose poll is due: run_once() for one round, start() for a thread."""

    def __init__(
        self, app: Flask, *, clock: Callable[[], datetime] = utcnow, check_seconds: float = 1.0
    ):
        self.app = app
        self.clock = clock
        # How often to look for a connection whose interval has passed (one small query).
        self.check_seconds = check_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Poll every connection that is due; return how many outcomes were applied."""
        with self.app.app_context():
            try:
                return poll_due(self.app, self.clock())
            except Exception as error:  # keep polling after a bad round
                # The kind only: database errors quote their parameters (personal data).
                log.error("crm outcome poll failed: %s", type(error).__name__)
                db.session.rollback()
                return 0

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # a webhook during the round below sets it again
            self.run_once()
            self._wake.wait(self.check_seconds)

    def start(self) -> None:
        """Poll in a background thread until stop()."""
        self.app.extensions[POLLER_WAKE] = self._wake
        self._thread = threading.Thread(target=self._loop, name="crm-outcome-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread after its current round."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.app.extensions.pop(POLLER_WAKE, None)
