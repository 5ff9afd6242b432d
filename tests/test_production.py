"""Production serving: `serve --production` checks its set-up; the gunicorn command serves."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask_migrate import upgrade

from server.cli import main
from server.ops import gunicorn_conf
from server.ops.production import APP_SPEC, CONFIG_SPEC, gunicorn_argv, production_problems
from tests.helpers import skip_unless_postgres
from tests.peers import free_port

REDIS_URL = os.environ.get("LEADBRIDGE_TEST_REDIS_URL")
ROOT = Path(__file__).resolve().parent.parent


def test_production_refuses_sqlite_and_a_missing_redis(
    tmp_path: Path, app_factory: Callable[..., Flask]
) -> None:
    app = app_factory("sqlite:///" + str(tmp_path / "x.sqlite3"))
    result = app.test_cli_runner().invoke(main, ["serve", "--production"])
    assert result.exit_code != 0
    assert "needs PostgreSQL" in result.output
    assert "LEADBRIDGE_REDIS_URL" in result.output


def test_production_refuses_an_unmigrated_database_or_dead_redis(
    app: Flask, database_url: str, app_factory: Callable[..., Flask]
) -> None:
    skip_unless_postgres(database_url)
    dead = app_factory(LEADBRIDGE_REDIS_URL="redis://127.0.0.1:1/0")
    with dead.app_context():
        problems = production_problems(dead)
    assert problems == ["Redis is not reachable (ConnectionError)."]


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis (LEADBRIDGE_TEST_REDIS_URL)")
def test_production_accepts_postgres_migrated_and_redis(
    app: Flask, database_url: str, app_factory: Callable[..., Flask]
) -> None:
    skip_unless_postgres(database_url)
    ready = app_factory(LEADBRIDGE_REDIS_URL=REDIS_URL)
    with ready.app_context():
        assert production_problems(ready) == []


def test_the_gunicorn_command_line() -> None:
    argv = gunicorn_argv("0.0.0.0", 8000, 6)
    assert argv[:3] == [sys.executable, "-m", "gunicorn"]
    assert argv[-1] == APP_SPEC == "server:create_app()"
    assert ["-c", CONFIG_SPEC] == argv[3:5]
    assert "0.0.0.0:8000" in argv and "6" in argv


def test_gunicorn_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADBRIDGE_WORKERS", "7")
    monkeypatch.setenv("LEADBRIDGE_THREADS", "3")
    monkeypatch.setenv("LEADBRIDGE_BIND", "127.0.0.1:9999")
    try:
        conf = importlib.reload(gunicorn_conf)
        assert (conf.workers, conf.threads, conf.bind) == (7, 3, ["127.0.0.1:9999"])
        assert conf.worker_class == "gthread"
        assert conf.accesslog is None  # the app's own access log has no query strings
    finally:
        monkeypatch.undo()
        importlib.reload(gunicorn_conf)


def test_the_documented_gunicorn_command_serves_with_request_ids_and_json_logs(
    tmp_path: Path, app_factory: Callable[..., Flask]
) -> None:
    database = "sqlite:///" + str(tmp_path / "g.sqlite3")
    migrated = app_factory(database)
    with migrated.app_context():
        upgrade()
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LEADBRIDGE_DATABASE_URL": database,
        "LEADBRIDGE_SECRET_KEY": "gunicorn-test",
        "LEADBRIDGE_INSTANCE_DIR": str(tmp_path / "instance"),
        "LEADBRIDGE_BIND": f"127.0.0.1:{port}",
        "LEADBRIDGE_WORKERS": "2",
    }
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", CONFIG_SPEC, APP_SPEC],
            env=env,
            stdout=out,
            stderr=out,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    response = requests.get(
                        f"http://127.0.0.1:{port}/readyz",
                        headers={"X-Request-ID": "probe-0000000001"},
                        # The first request waits for a worker to build its app.
                        timeout=30,
                    )
                    break
                except requests.ConnectionError:
                    assert process.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, "gunicorn did not start"
                    time.sleep(0.2)
            assert response.status_code == 200, response.text
            assert response.headers["X-Request-ID"] == "probe-0000000001"
        finally:
            process.terminate()
            process.wait(timeout=30)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "leadbridge.access"]
    assert any(
        entry["request_id"] == "probe-0000000001" and entry["route"] == "/readyz"
        for entry in access
    ), log.read_text()[-2000:]
    # gunicorn's own lines are JSON too.
    assert any(
        line["logger"] == "gunicorn.error" and "Booting worker" in line["message"] for line in lines
    ), log.read_text()[-2000:]
