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

from collections.abc import Callable
from datetime import datetime

from flask import Flask

from server.crm.outcomes import POLLER_WAKE, poll_due
from server.db_types import utcnow
from server.rounds import Rounds


class OutcomePoller(Rounds):
    """Poll the CRMs whose poll is due: run_once() for one round, start() for a thread."""

    thread_name = "crm-outcome-poller"
    wake_extension = POLLER_WAKE

    def __init__(
        self, app: Flask, *, clock: Callable[[], datetime] = utcnow, check_seconds: float = 1.0
    ):
        # How often to look for a connection whose interval has passed (one small query).
        super().__init__(app, check_seconds)
        self.clock = clock

    def run_once(self) -> int:
        """Poll every connection that is due; return how many outcomes were applied."""
        with self.app.app_context():
            return poll_due(self.app, self.clock())
