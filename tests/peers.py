"""Real peers on loopback for alert tests: an SMTP server that records mail, a webhook receiver.

Both are context managers, listen on 127.0.0.1 only, and bound every wait.
Their behaviour switches (fail_with, delay_s, fail_next) can be flipped while
a test runs, to play a receiver that is down, slow or throttling.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

LOOPBACK = "127.0.0.1"
# The peers listen on loopback, which the server refuses to post alerts to unless told
# (server/alerts/destinations.py): the suite and the benchmarks allow it.
LOOPBACK_NETWORKS = "127.0.0.0/8,::1/128"


def free_port() -> int:
    """Return a loopback TCP port that was free a moment ago (nothing listens on it now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def _wait(condition: threading.Condition, ready: Callable[[], bool], timeout: float) -> None:
    with condition:
        if not condition.wait_for(ready, timeout=timeout):
            raise TimeoutError(f"peer did not see the expected traffic within {timeout}s")


class _RecordingHandler:
    """aiosmtpd handler: parse each accepted message and keep it."""

    def __init__(self, recorder: SmtpRecorder):
        self.recorder = recorder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = self.recorder.fail_with
        if reply:
            return reply
        raw = envelope.original_content or envelope.content or b""
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)
        with self.recorder.changed:
            self.recorder.messages.append(parsed)
            self.recorder.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.recorder.changed.notify_all()
        return "250 Message accepted for delivery"


class SmtpRecorder:
    """An SMTP server on loopback that records every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        # A full SMTP reply such as "451 4.3.0 Try later" refuses DATA with it; None accepts.
        self.fail_with: str | None = None
        self.changed = threading.Condition()
        self.host = LOOPBACK
        self.port = free_port()
        self._controller = Controller(
            _RecordingHandler(self), hostname=LOOPBACK, port=self.port, ready_timeout=10.0
        )

    def start(self) -> Self:
        """Start listening."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop()

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        """Wait until at least count messages arrived; return them all."""
        _wait(self.changed, lambda: len(self.messages) >= count, timeout)
        with self.changed:
            return list(self.messages)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass(frozen=True)
class ReceivedRequest:
    """One POST as the receiver saw it."""

    path: str
    headers: HTTPMessage
    body: bytes
    json: Any
    status: int
    # The sender's port: requests that share one tells they came over one kept-alive connection.
    client_port: int = 0


class WebhookReceiver:
    """An HTTP server on loopback that records POSTs and answers as told."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.status = 200
        self.fail_with: int | None = None
        self.delay_s = 0.0
        self.changed = threading.Condition()
        self._failures: list[int] = []
        self._closing = threading.Event()
        self.server = ThreadingHTTPServer((LOOPBACK, 0), self._handler())
        # Handler threads may be sleeping in a delay; closing must not wait for them.
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            # A short poll interval keeps shutdown (and so every test's teardown) quick.
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="webhook-receiver",
            daemon=True,
        )

    def url(self, path: str = "/hook") -> str:
        """Return the address of path on this receiver."""
        return f"http://{LOOPBACK}:{self.port}{path}"

    def fail_next(self, n: int, status: int = 503) -> None:
        """Answer the next n requests with status, then go back to normal."""
        with self.changed:
            self._failures.extend([status] * n)

    def _answer_status(self) -> int:
        with self.changed:
            if self._failures:
                return self._failures.pop(0)
            return self.fail_with or self.status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # As real receivers do, keep the connection open for the sender's next request,
            # and send the answer at once: with Nagle's algorithm on, the body would wait for
            # the sender to acknowledge the headers, which it delays (40 ms a request).
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                try:
                    document = json.loads(body)
                except ValueError:
                    document = None
                status = receiver._answer_status()
                with receiver.changed:
                    receiver.requests.append(
                        ReceivedRequest(
                            self.path, self.headers, body, document, status, self.client_address[1]
                        )
                    )
                    receiver.changed.notify_all()
                if receiver.delay_s > 0 and receiver._closing.wait(receiver.delay_s):
                    return
                reply = json.dumps({"ok": 200 <= status < 300}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass  # The client gave up waiting (a timeout test); nothing to answer.

            def log_message(self, format: str, *args: Any) -> None:
                pass  # Keep test output clean.

        return Handler

    def wait_for(self, count: int, timeout: float = 10) -> list[ReceivedRequest]:
        """Wait until at least count requests arrived; return them all."""
        _wait(self.changed, lambda: len(self.requests) >= count, timeout)
        with self.changed:
            return list(self.requests)

    def start(self) -> Self:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wake handlers that are still delaying."""
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def closed_port_url(path: str = "/hook") -> str:
    """Return a loopback URL where nothing listens."""
    return f"http://{LOOPBACK}:{free_port()}{path}"
