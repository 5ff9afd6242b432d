"""Health and readiness, request ids, structured logs without personal data, security headers."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from server import create_app
from server.alerts.models import AlertJob, JobStatus
from server.extensions import db
from server.ops.headers import script_hashes
from server.ops.logs import configure_logging
from tests.helpers import ApiHelper, Booth, skip_unless_postgres

REDIS_URL = os.environ.get("LEADBRIDGE_TEST_REDIS_URL")
AppFactory = Callable[..., Flask]


def test_healthz_answers_without_a_database(tmp_path: Path, app_factory: AppFactory) -> None:
    app = app_factory("sqlite:///" + str(tmp_path / "none.sqlite3"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_ready_when_migrated_and_reports_the_alert_backlog(
    app: Flask, client: object, api: ApiHelper, booth: Booth
) -> None:
    api.capture(booth.tablet, booth.staff)
    with app.app_context():
        pending = db.session.scalar(
            sa.select(sa.func.count(AlertJob.id)).where(AlertJob.status == JobStatus.PENDING)
        )
    assert pending >= 1, "a captured lead with an owner should have an alert pending"
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    checks = response.json["checks"]
    assert checks["database"]["ok"] is True
    assert checks["database"]["migrations"] == checks["database"]["head"]
    assert checks["alerts"]["pending"] == pending
    assert checks["alerts"]["oldest_pending_seconds"] >= 0


def test_not_ready_on_an_unmigrated_database(tmp_path: Path, app_factory: AppFactory) -> None:
    app = app_factory("sqlite:///" + str(tmp_path / "empty.sqlite3"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "not ready"
    assert response.json["checks"]["database"]["ok"] is False


def test_not_ready_when_migrations_are_behind(tmp_path: Path, app_factory: AppFactory) -> None:
    app = app_factory("sqlite:///" + str(tmp_path / "old.sqlite3"))
    with app.app_context():
        upgrade(revision="0003")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    database = response.json["checks"]["database"]
    assert database["migrations"] == ["0003"]
    assert database["head"] != ["0003"]


def test_not_ready_when_redis_is_unreachable(app: Flask, app_factory: AppFactory) -> None:
    # Port 1 on loopback: nothing listens there.
    broken = app_factory(LEADBRIDGE_REDIS_URL="redis://127.0.0.1:1/0")
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"]["ok"] is False
    assert response.json["checks"]["database"]["ok"] is True


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis (LEADBRIDGE_TEST_REDIS_URL)")
def test_ready_with_redis(app: Flask, app_factory: AppFactory) -> None:
    with_redis = app_factory(LEADBRIDGE_REDIS_URL=REDIS_URL)
    response = with_redis.test_client().get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"]["redis"] == {"ok": True}


def test_request_ids_are_kept_when_sane_and_made_otherwise(client: object) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "lb-4f1c2a9e-0001"})
    assert given.headers["X-Request-ID"] == "lb-4f1c2a9e-0001"
    made = client.get("/healthz")
    assert len(made.headers["X-Request-ID"]) == 32
    for bad in ("short", "x" * 200, "ann@example.com", "id with spaces 123"):
        answered = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert answered != bad and len(answered) == 32


@pytest.fixture
def log_lines(app: Flask) -> Iterator[io.StringIO]:
    """Route the process's logs through the JSON handler into a buffer."""
    stream = io.StringIO()
    handler = configure_logging(app, stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def test_logs_are_json_with_request_ids_and_no_personal_data(
    client: object, api: ApiHelper, booth: Booth, log_lines: io.StringIO
) -> None:
    email = booth.rep.email
    client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": "not the password"},
        headers={"X-Request-ID": "req-login-000001"},
    )
    client.get(
        f"/api/v1/leads?q={email}", headers={**booth.marketer.headers, "X-Request-ID": "req-q-01"}
    )
    client.get("/ack/some-signed-token-value")
    records = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    access = {r["request_id"]: r for r in records if r["logger"] == "leadbridge.access"}
    assert access["req-login-000001"]["route"] == "/api/v1/auth/login"
    assert access["req-login-000001"]["status"] == 401
    assert access["req-q-01"]["route"] == "/api/v1/leads"
    assert any(r["route"] == "/ack/<token>" for r in access.values())
    text = log_lines.getvalue()
    assert email not in text
    assert "some-signed-token-value" not in text
    assert booth.tablet.token not in text


def test_the_access_log_says_what_cpu_each_request_took(
    client: object, booth: Booth, log_lines: io.StringIO
) -> None:
    # Logging in hashes a password (hundreds of ms of CPU); a health check costs almost none.
    client.post(
        "/api/v1/auth/login",
        json={"email": booth.rep.email, "password": "not the password"},
        headers={"X-Request-ID": "req-login-cpu-01"},
    )
    client.get("/healthz", headers={"X-Request-ID": "req-health-cpu-01"})
    records = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    access = {r["request_id"]: r for r in records if r["logger"] == "leadbridge.access"}
    login, health = access["req-login-cpu-01"], access["req-health-cpu-01"]
    assert 0 < login["cpu_ms"] <= login["duration_ms"] + 1
    assert 0 <= health["cpu_ms"] < login["cpu_ms"]


def test_html_pages_get_a_strict_csp(client: object) -> None:
    page = client.get("/ack/not-a-valid-token")
    assert page.mimetype == "text/html"
    csp = page.headers["Content-Security-Policy"]
    script_src = next(p for p in csp.split("; ") if p.startswith("script-src"))
    assert script_src == "script-src 'self'"
    assert "frame-ancestors 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in page.headers


def test_api_docs_inline_script_is_allowed_by_hash_only(client: object) -> None:
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    hashes = script_hashes(docs.get_data())
    assert hashes, "the Swagger UI page has an inline script"
    csp = docs.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in next(p for p in csp.split("; ") if p.startswith("script-src"))
    for source in hashes:
        assert source in csp


def test_json_answers_are_not_sniffed_and_not_framed_as_pages(client: object) -> None:
    response = client.get("/api/v1/events")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in response.headers


def test_hsts_only_over_https_behind_a_trusted_proxy(app: Flask, app_factory: AppFactory) -> None:
    proxied = app_factory(LEADBRIDGE_PROXY_HOPS=1).test_client()
    secure = proxied.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in proxied.get("/healthz").headers
    # Without a trusted proxy, a client cannot claim HTTPS.
    direct = app_factory().test_client()
    assert (
        "Strict-Transport-Security"
        not in direct.get("/healthz", headers={"X-Forwarded-Proto": "https"}).headers
    )


def test_cookies_are_secure_when_served_over_https(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LEADBRIDGE_PUBLIC_URL", "https://leads.example.com")
    settings = {"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    app = create_app(settings)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    monkeypatch.setenv("LEADBRIDGE_PUBLIC_URL", "http://127.0.0.1:5000")
    assert create_app(settings).config["SESSION_COOKIE_SECURE"] is False


def test_logged_exceptions_keep_their_kind_and_place_but_not_their_message(
    log_lines: io.StringIO,
) -> None:
    try:
        raise ValueError("could not parse ann@example.com")
    except ValueError:
        logging.getLogger("leadbridge.test").exception("parsing failed")
    record = json.loads(log_lines.getvalue().splitlines()[-1])
    assert record["exception"] == "ValueError"
    assert record["trace"][-1].endswith(
        "test_logged_exceptions_keep_their_kind_and_place_but_not_their_message"
    )
    assert "ann@example.com" not in log_lines.getvalue()


@pytest.mark.postgres
def test_a_connection_lost_to_a_database_restart_fails_one_request_with_503(
    app: Flask, app_factory: AppFactory, booth: Booth
) -> None:
    skip_unless_postgres(app.config["SQLALCHEMY_DATABASE_URI"], "a server to lose")
    # Its own app, so its own pool: the connection it holds is the one cut off below.
    extra = app_factory()
    client = extra.test_client()
    me = "/api/v1/devices/me"
    assert client.get(me, headers=booth.tablet.headers).status_code == 200
    with extra.app_context():
        backend = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        db.session.remove()  # back to the pool, as after any request
    with app.app_context():
        # What a restart does to every connection: the server ends it.
        db.session.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        db.session.commit()

    lost = client.get(me, headers=booth.tablet.headers)
    assert lost.status_code == 503, lost.json
    assert lost.json["message"] == "The database connection was lost; try again."
    assert lost.headers["Retry-After"] == "1"
    # The pool threw its dead connections away: the tablet's retry is served.
    assert client.get(me, headers=booth.tablet.headers).status_code == 200
