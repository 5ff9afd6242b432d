"""``leadbridge serve --production``: check the set-up, then hand the process to gunicorn."""

from __future__ import annotations

import os
import sys

from flask import Flask

from server.ops.health import check_database, check_redis

APP_SPEC = "server:create_app()"
CONFIG_SPEC = "python:server.ops.gunicorn_conf"


def production_problems(app: Flask) -> list[str]:
    """Return what keeps app from serving in production; empty when it may start."""
    problems = []
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        problems.append(
            "Production serving needs PostgreSQL: set LEADBRIDGE_DATABASE_URL. SQLite takes one "
            "writer at a time and lives on one machine; use `leadbridge serve` for a laptop."
        )
    if not app.config.get("LEADBRIDGE_REDIS_URL"):
        problems.append(
            "Production serving needs Redis: set LEADBRIDGE_REDIS_URL, and run `leadbridge "
            "worker` processes to deliver alerts (rate limits are shared there too)."
        )
    if problems:
        return problems
    database = check_database()
    if not database["ok"]:
        problems.append(
            "The database is not reachable or not migrated "
            f"({database.get('error') or database.get('migrations')}): run `leadbridge db upgrade`."
        )
    redis_state = check_redis()
    if redis_state is not None and not redis_state["ok"]:
        problems.append(f"Redis is not reachable ({redis_state['error']}).")
    return problems


def gunicorn_argv(host: str, port: int, workers: int | None) -> list[str]:
    """Return the gunicorn command line that serves the app on host:port."""
    argv = [sys.executable, "-m", "gunicorn", "-c", CONFIG_SPEC, "--bind", f"{host}:{port}"]
    if workers:
        argv += ["--workers", str(workers)]
    return [*argv, APP_SPEC]


def exec_gunicorn(host: str, port: int, workers: int | None) -> None:
    """Replace this process with gunicorn, so signals reach its master directly."""
    argv = gunicorn_argv(host, port, workers)
    os.execv(argv[0], argv)
