"""Run a worker's rounds in a daemon thread, one after another, woken early by an event.

The alert dispatcher and the CRM outcome poller both work this way: a round, then a wait
of at most `interval` seconds that a commit or a webhook cuts short by setting the wake
event, kept in the app's extensions under the subclass's name so code that has only the
app can find it.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from server.extensions import db

log = logging.getLogger(__name__)


class Rounds:
    """Call run_once() in a background thread every interval seconds, or at once when woken."""

    # Set by each subclass: the thread's name, and the extensions key of its wake event.
    thread_name = "rounds"
    wake_extension = ""

    def __init__(self, app: Flask, interval: float):
        self.app = app
        self.interval = interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Do one round; return how much it did."""
        raise NotImplementedError

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # a wake during the round below sets it again
            try:
                self.run_once()
            except Exception as error:  # keep going after a bad round
                # The kind only: database errors quote their parameters (personal data).
                log.error("%s round failed: %s", self.thread_name, type(error).__name__)
                with self.app.app_context():
                    db.session.rollback()
            self._wake.wait(self.interval)

    def start(self) -> None:
        """Run rounds in a background thread until stop()."""
        self.app.extensions[self.wake_extension] = self._wake
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread after its current round."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.app.extensions.pop(self.wake_extension, None)
