"""Liveness (/healthz) and readiness (/readyz) for load balancers and orchestrators.

Readiness answers 503 when the database or Redis (when configured) cannot be reached or
the database is not migrated to the newest revision. The alert backlog (pending jobs and
the age of the oldest) is reported but never makes a web node unready: taking web nodes
out of rotation would not deliver a single alert faster.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue

from server.alerts.models import AlertJob, JobStatus
from server.db_types import utcnow
from server.extensions import db

bp = Blueprint("ops", __name__)


@functools.cache
def migration_heads(directory: str) -> frozenset[str]:
    """Return the newest revision(s) of the migrations in directory."""
    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def check_database() -> dict[str, Any]:
    """Tell whether the database answers and is migrated to head."""
    from server import MIGRATIONS_DIR

    try:
        with db.engine.connect() as connection:
            current = set(
                connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
            )
    except sa.exc.SQLAlchemyError as error:
        db.session.rollback()
        return {"ok": False, "error": type(error).__name__}
    heads = migration_heads(MIGRATIONS_DIR)
    return {"ok": current == set(heads), "migrations": sorted(current), "head": sorted(heads)}


def check_redis() -> dict[str, Any] | None:
    """Tell whether Redis answers, or None when the server does not use it."""
    url = current_app.config.get("LEADBRIDGE_REDIS_URL")
    if not url:
        return None
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        return {"ok": False, "error": type(error).__name__}
    finally:
        client.close()
    return {"ok": True}


def alert_backlog() -> dict[str, Any]:
    """Count pending alert jobs and the age in seconds of the oldest."""
    try:
        count, oldest = db.session.execute(
            sa.select(sa.func.count(AlertJob.id), sa.func.min(AlertJob.created_at)).where(
                AlertJob.status == JobStatus.PENDING
            )
        ).one()
    except sa.exc.SQLAlchemyError as error:
        db.session.rollback()
        return {"error": type(error).__name__}
    finally:
        db.session.remove()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=utcnow().tzinfo)
    age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    return {"pending": count, "oldest_pending_seconds": round(max(age, 0.0), 1)}


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Answer 200 while the process serves requests."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Answer 200 when this node can serve: database migrated, Redis reachable if used."""
    database = check_database()
    checks: dict[str, Any] = {"database": database}
    redis_state = check_redis()
    if redis_state is not None:
        checks["redis"] = redis_state
    if database["ok"]:
        checks["alerts"] = alert_backlog()
    ready = database["ok"] and (redis_state is None or redis_state["ok"])
    return {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503
