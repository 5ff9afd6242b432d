"""Request ids: take a sane X-Request-ID from the caller or make one, echo it, log it."""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, g, has_request_context, request
from werkzeug.wrappers import Response

HEADER = "X-Request-ID"
# Ids from load balancers and clients are kept when they look like ids, never otherwise:
# anything else could smuggle text (or personal data) into every log line.
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
NO_REQUEST = "-"


def choose_request_id(incoming: str | None) -> str:
    """Return incoming if it is a sane id, else a new random one."""
    if incoming and _SANE.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def current_request_id() -> str:
    """Return the id of the request being handled, or '-' outside a request."""
    if has_request_context():
        return g.get("request_id", NO_REQUEST)
    return NO_REQUEST


class RequestIdFilter(logging.Filter):
    """Stamp every log record with the current request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


def init_request_ids(app: Flask) -> None:
    """Give every request an id and answer it in the X-Request-ID header."""

    @app.before_request
    def _assign() -> None:
        g.request_id = choose_request_id(request.headers.get(HEADER))

    @app.after_request
    def _echo(response: Response) -> Response:
        response.headers[HEADER] = current_request_id()
        return response
