"""A loopback HTTP proxy that loses requests and responses on purpose.

It stands between a sync client and the real server. "Losing a request" closes
the client's connection before the server sees anything; "losing a response"
lets the server handle (and commit) the request, then closes the connection
instead of answering: the case where a tablet cannot know whether its push landed.
"""

from __future__ import annotations

import http.client
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class FaultyProxy:
    """Forward HTTP to upstream, dropping requests or responses with given probabilities."""

    def __init__(
        self,
        upstream: str,
        *,
        drop_request: float = 0.0,
        drop_response: float = 0.0,
        seed: int = 0,
    ):
        self.upstream = urlsplit(upstream)
        self.drop_request = drop_request
        self.drop_response = drop_response
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.forwarded = self.dropped_requests = self.dropped_responses = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Return the proxy's base URL."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def heal(self) -> None:
        """Stop losing anything from now on."""
        with self.lock:
            self.drop_request = self.drop_response = 0.0

    def _decide(self) -> tuple[bool, bool]:
        with self.lock:
            return (
                self.rng.random() < self.drop_request,
                self.rng.random() < self.drop_response,
            )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return None  # keep test output clean

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                lose_request, lose_response = proxy._decide()
                if lose_request:
                    with proxy.lock:
                        proxy.dropped_requests += 1
                    self.close_connection = True
                    return
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=60
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                payload = response.read()
                upstream.close()
                if lose_response:
                    with proxy.lock:
                        proxy.dropped_responses += 1
                    self.close_connection = True
                    return
                with proxy.lock:
                    proxy.forwarded += 1
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in HOP_BY_HOP | {"content-length"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _forward  # noqa: N815

        return Handler

    def __enter__(self) -> FaultyProxy:
        self.thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
