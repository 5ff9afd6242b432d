"""gunicorn settings for production serving.

Run as ``gunicorn -c python:server.ops.gunicorn_conf 'server:create_app()'``.

Everything comes from LEADBRIDGE_* variables so the command line stays the same on every
machine; ``leadbridge serve --production`` runs exactly this. Threaded workers (gthread)
keep hundreds of slow venue connections from tying up whole processes.
"""

from __future__ import annotations

import os as _os

from gunicorn.glogging import Logger as _Logger

from server.config import from_environment as _from_environment

_settings = _from_environment("", {"SECRET_KEY": "-", "SQLALCHEMY_DATABASE_URI": "-"})
# Production logs are JSON even when gunicorn is started from a terminal; each worker's app
# reads this (the workers inherit the master's environment). Set it to "text" to override.
_os.environ.setdefault("LEADBRIDGE_LOG_FORMAT", "json")

bind = [_os.environ.get("LEADBRIDGE_BIND", "127.0.0.1:8000")]
workers = int(_settings["LEADBRIDGE_WORKERS"])
worker_class = "gthread"
threads = int(_settings["LEADBRIDGE_THREADS"])
# Each worker builds its own app (and database pool) after the fork: no shared sockets.
preload_app = False
timeout = int(_os.environ.get("LEADBRIDGE_WORKER_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# The app writes its own JSON access log (route, status, duration, request id; no query
# strings), so gunicorn's, which would print full URLs, stays off.
accesslog = None
errorlog = "-"
loglevel = str(_settings["LEADBRIDGE_LOG_LEVEL"]).lower()
# gunicorn's own lines (workers booting, dying, timing out) in the app's JSON format too.
# The root logger gets no handler here: each worker's app adds the leadbridge one.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "server.ops.logs.JsonFormatter"}},
    "handlers": {
        "gunicorn": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": "WARNING", "handlers": []},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["gunicorn"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
}


class _WithoutAccessLog(_Logger):
    """gunicorn's logger, minus its access log (which it would build for every request).

    With a logconfig_dict set, gunicorn formats each request's access line even though
    its logger has no handler: a few percent of a busy worker's CPU, for nothing.
    """

    access_log_enabled = False


logger_class = _WithoutAccessLog
proc_name = "leadbridge"
# A request body bigger than the app's limit is refused by the app with 413; headers stay small.
limit_request_field_size = 8190
