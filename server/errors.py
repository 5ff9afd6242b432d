"""The API's one JSON error shape and the handlers that keep every error in it."""

from __future__ import annotations

import logging
from typing import Any, NoReturn

from flask import Flask
from flask_smorest import abort
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError, TimeoutError
from werkzeug.exceptions import HTTPException

from server.extensions import db

log = logging.getLogger(__name__)

# Errors of the database connection (lost, locked, timed out), not of the data a request
# or job carries: work that meets one fails as a whole and is retried later, never
# rejected or dead-lettered for it (server/sync/push.py, server/alerts/dispatcher.py).
RETRYABLE_DB_ERRORS = (OperationalError, InterfaceError, TimeoutError)


def fail(status: int, message: str, errors: dict[str, Any] | None = None, **extra: Any) -> NoReturn:
    """Abort the request with the API's error shape: code, status, message, errors."""
    kwargs: dict[str, Any] = {"message": message, **extra}
    if errors is not None:
        kwargs["errors"] = errors
    abort(status, **kwargs)
    raise AssertionError("abort returned")  # pragma: no cover - abort always raises


def fail_validation(errors: dict[str, Any]) -> NoReturn:
    """Answer 422 with field errors laid out as webargs lays out body errors."""
    fail(422, "The request body is not valid.", errors={"json": errors})


class UpgradeRequired(HTTPException):
    """426: the client speaks a protocol version the server no longer supports."""

    code = 426
    description = "Update the app to talk to this server."


def register_error_handlers(app: Flask) -> None:
    """Add 426 to abort(); map database refusals of bad values to 422, lost connections to 503."""
    app.aborter.mapping[UpgradeRequired.code] = UpgradeRequired

    @app.errorhandler(DataError)
    def handle_data_error(error: DataError) -> tuple[dict[str, Any], int]:
        # Schemas should catch every bad value first; this is the net under them,
        # so log the statement's kind (never its parameters: they hold personal data).
        db.session.rollback()
        log.warning("database refused a value: %s", type(error.orig).__name__)
        return (
            {
                "code": 422,
                "status": "Unprocessable Entity",
                "message": "A value is out of range or malformed.",
            },
            422,
        )

    @app.errorhandler(DBAPIError)
    def handle_lost_connection(error: DBAPIError) -> tuple[dict[str, Any], int, dict[str, str]]:
        # Pooled connections are not pinged before use (a round trip on every request):
        # one that died with a database restart fails its request here, and SQLAlchemy
        # then replaces every connection of the pool. The client tries again.
        if not error.connection_invalidated:
            raise error
        db.session.rollback()
        log.warning("database connection lost: %s", type(error.orig).__name__)
        body = {
            "code": 503,
            "status": "Service Unavailable",
            "message": "The database connection was lost; try again.",
        }
        return body, 503, {"Retry-After": "1"}
