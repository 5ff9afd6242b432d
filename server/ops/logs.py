"""Logs: one JSON object a line (or a plain text line on a terminal), with the request id,
and an access log.

LEADBRIDGE_LOG_FORMAT chooses: "json", "text", or "auto" (the default): plain text lines when
the log stream is a terminal (a developer's `make run`), JSON anywhere else (a service
manager, a container, a file), and JSON under gunicorn (`serve --production`) unless set.

Only the fields named here are written: the logger, level, message, request id, and for
the access log the method, route, status and duration. The route is the URL rule
("/ack/<token>"), never the path itself: paths hold signed links and query strings
hold search terms such as an email address. Scrubbing personal
data from messages is the job of the privacy filter, added beside ours on the handler.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, g, request
from werkzeug.wrappers import Response

from server.ops.requestid import RequestIdFilter

ACCESS_LOGGER = "leadbridge.access"
# Attributes a caller may attach with `extra=` that are safe to write out.
_EXTRA_FIELDS = (
    "method",
    "route",
    "status",
    "duration_ms",
    "cpu_ms",
    "event_id",
    "device_id",
    "job_id",
)


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for name in _EXTRA_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info and record.exc_info[0] is not None:
            # The kind and where, never the message: it may quote the data it choked on.
            entry["exception"] = record.exc_info[0].__name__
            entry["trace"] = [
                f"{frame.filename}:{frame.lineno} {frame.name}"
                for frame in traceback.extract_tb(record.exc_info[2])
            ]
        return json.dumps(entry, default=str)


_ROOT = Path(__file__).parents[2]
_OWN_CODE = (str(_ROOT / "server"), str(_ROOT / "sync"))


def describe_error(error: BaseException) -> str:
    """Name an unexpected error by its kind and where leadbridge's code met it.

    Never its message: that may quote the data it choked on (a name, a row).
    """
    frames = traceback.extract_tb(error.__traceback__)
    ours = [frame for frame in frames if frame.filename.startswith(_OWN_CODE)] or frames
    if not ours:
        return type(error).__name__
    where = Path(ours[-1].filename)
    shown = where.relative_to(_ROOT) if where.is_relative_to(_ROOT) else where.name
    return f"{type(error).__name__} at {shown}:{ours[-1].lineno}"


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


LOG_FORMATS = ("auto", "json", "text")


def chosen_format(log_format: str, stream: Any) -> str:
    """Return "json" or "text" for a setting of LOG_FORMATS: auto is text on a terminal only."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LEADBRIDGE_LOG_FORMAT is {log_format!r}; use one of {LOG_FORMATS}")
    if log_format != "auto":
        return log_format
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


def make_handler(log_format: str, stream: Any = None) -> logging.Handler:
    """Return a stream handler with the request id filter and the chosen format."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    if chosen_format(log_format, stream) == "text":
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    else:
        handler.setFormatter(JsonFormatter())
    handler.set_name("leadbridge")
    return handler


def configure_logging(app: Flask, stream: Any = None) -> logging.Handler:
    """Send the process's logs through one leadbridge handler (replacing an earlier one)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "leadbridge"]:
        root.removeHandler(old)
    handler = make_handler(app.config.get("LEADBRIDGE_LOG_FORMAT", "auto"), stream)
    root.addHandler(handler)
    root.setLevel(app.config.get("LEADBRIDGE_LOG_LEVEL", "INFO"))
    return handler


def init_access_log(app: Flask) -> None:
    """Log one line per request: method, URL rule, status, duration and the CPU it took.

    The CPU is the handling thread's own (time.thread_time), from the first hook to the
    last: what the request cost the web process, without the time it waited for the
    database or for the interpreter lock.
    """
    access = logging.getLogger(ACCESS_LOGGER)

    @app.before_request
    def _start_clock() -> None:
        g.request_started = time.perf_counter()
        g.request_cpu_started = time.thread_time()

    @app.after_request
    def _log(response: Response) -> Response:
        started = g.get("request_started")
        duration = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        cpu_started = g.get("request_cpu_started")
        cpu = (time.thread_time() - cpu_started) * 1000 if cpu_started is not None else 0.0
        route = request.url_rule.rule if request.url_rule is not None else "(no route)"
        access.info(
            "%s %s %s",
            request.method,
            route,
            response.status_code,
            extra={
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(duration, 1),
                "cpu_ms": round(cpu, 2),
            },
        )
        return response
