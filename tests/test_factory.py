"""The application factory, configuration from the environment, and the API document."""

from __future__ import annotations

import sqlite3
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server import create_app
from server.extensions import db
from tests.conftest import dispose_app, make_test_app
from tests.helpers import ApiHelper, Booth, skip_unless_postgres


def test_config_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LEADBRIDGE_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("LEADBRIDGE_MAX_BODY_BYTES", "2048")
    monkeypatch.delenv("LEADBRIDGE_DATABASE_URL", raising=False)
    monkeypatch.delenv("LEADBRIDGE_SECRET_KEY", raising=False)
    app = create_app()
    assert not app.testing
    assert app.config["MAX_CONTENT_LENGTH"] == 2048
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/leadbridge.sqlite3"
    key_file = tmp_path / "secret_key"
    assert app.config["SECRET_KEY"] == key_file.read_text()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # A second start reuses the key, so signed links survive restarts.
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_postgres_urls_use_psycopg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LEADBRIDGE_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("LEADBRIDGE_SECRET_KEY", "from-env")
    monkeypatch.setenv("LEADBRIDGE_DATABASE_URL", "postgres://lb@db.internal/leadbridge")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://lb@db.internal/leadbridge"
    assert app.config["SECRET_KEY"] == "from-env"
    assert not (tmp_path / "secret_key").exists()


def test_test_config_overrides(app: Flask):
    assert app.testing
    assert app.config["SECRET_KEY"] == "test-secret-key"


def test_openapi_document_lists_every_endpoint(client: FlaskClient):
    spec = client.get("/api/openapi.json").json
    paths = spec["paths"]
    for path in (
        "/api/v1/auth/login",
        "/api/v1/users",
        "/api/v1/events/{event_id}",
        "/api/v1/devices/pair",
        "/api/v1/leads/{lead_id}/timeline",
    ):
        assert path in paths
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert paths["/api/v1/auth/login"]["post"]["security"] == []
    # Every operation documents its responses with a schema or an error.
    for operations in paths.values():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation["responses"], (method, operation)
            assert operation.get("summary"), operation


def test_docs_page_works_offline(client: FlaskClient):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert b"/api/swagger-ui/swagger-ui-bundle.js" in page.data
    asset = client.get("/api/swagger-ui/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000
    asset.close()


def test_unknown_paths_get_the_json_error_shape(client: FlaskClient):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json == {
        "code": 404,
        "status": "Not Found",
        "message": response.json["message"],
    }
    assert response.json["message"]


def test_busy_serving_threads_reuse_their_database_connections(
    app_factory: Callable[..., Flask],
):
    # A thread that finds the pool empty opens a connection and closes it after its request:
    # a new PostgreSQL server process per request under load. The pool has one per thread.
    threads = 8
    app = app_factory(LEADBRIDGE_THREADS=threads)
    opened: list[object] = []
    with app.app_context():
        sa.event.listen(db.engine, "connect", lambda *_: opened.append(1))
    together = threading.Barrier(threads)

    def request_holding_a_connection() -> None:
        with app.app_context():
            together.wait(timeout=10)
            db.session.execute(sa.text("SELECT 1"))
            together.wait(timeout=10)  # every thread holds its connection at once
            db.session.remove()

    for _ in range(2):
        workers = [threading.Thread(target=request_holding_a_connection) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=20)
    # The first round opened one connection per thread; the second opened none.
    assert len(opened) == threads


def test_disposing_an_app_closes_its_pooled_connections(database_url: str) -> None:
    # What app_factory and the session's app do after their tests: a connection left open in
    # a dropped app's pool is closed by the garbage collector, with a ResourceWarning.
    app = make_test_app(database_url)
    with app.app_context():
        pooled = db.engine.raw_connection()
        driver = pooled.driver_connection
        pooled.close()  # back into the pool, still open
        pool = db.engine.pool
    assert pool.checkedin() == 1
    dispose_app(app)
    assert pool.checkedin() == 0
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert driver.closed
    else:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            driver.execute("SELECT 1")


@pytest.mark.postgres
def test_a_captures_timeline_rows_go_to_postgresql_as_one_insert(
    app: Flask, api: ApiHelper, booth: Booth
) -> None:
    skip_unless_postgres(app.config["SQLALCHEMY_DATABASE_URI"], "psycopg's executemany")
    with app.app_context():
        engine = db.engine
    inserts: list[str] = []

    def note(
        _conn: object, _cursor: object, statement: str, _params: object, context: Any, *_: object
    ) -> None:
        if statement.startswith("INSERT INTO activities"):
            inserts.append(context.execute_style.name)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        api.capture(booth.tablet, booth.staff)
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    # The capture's several timeline rows (captured, received, scored, routed) in one
    # multi-row INSERT, not psycopg's executemany of one INSERT per row (docs/performance.md).
    assert inserts == ["INSERTMANYVALUES"]
