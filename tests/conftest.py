"""Fixtures: a migrated database (SQLite, or PostgreSQL when configured), the app and helpers.

Set LEADBRIDGE_TEST_DATABASE_URL to a PostgreSQL URL to run the suite there; each
run works in its own schema and drops it afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from server import create_app
from server.extensions import db
from server.versioning import SERVER_VERSION, Counter
from tests.helpers import ApiHelper, Booth, make_booth
from tests.peers import LOOPBACK_NETWORKS

# Every app and server process the suite starts may post alerts to its loopback peers.
os.environ["LEADBRIDGE_WEBHOOK_ALLOWED_NETWORKS"] = LOOPBACK_NETWORKS

# The alert tests' fixtures (receiver, clock, dispatcher), in one place.
pytest_plugins = ["tests.alerting"]

POSTGRES_URL = os.environ.get("LEADBRIDGE_TEST_DATABASE_URL")


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Yield the URL of an empty database for this test session."""
    if not POSTGRES_URL:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
        return
    schema = f"lbtest_{secrets.token_hex(4)}"
    admin = sa.create_engine(_psycopg_url(POSTGRES_URL))
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{_psycopg_url(POSTGRES_URL)}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def make_test_app(database_url: str, **overrides: object) -> Flask:
    """Create an app for tests on database_url, with overrides applied."""
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Tests log in and pair far faster than people do; tests/test_limits.py turns them on.
        "LEADBRIDGE_RATELIMIT_ENABLED": False,
        # Tests read the figures right after changing leads; tests/test_stats_cache.py caches.
        "LEADBRIDGE_STATS_CACHE_SECONDS": 0,
        **overrides,
    }
    return create_app(settings)


def dispose_app(app: Flask) -> None:
    """Close every pooled database connection of app's engine."""
    # An app dropped with connections in its pool leaves them to the garbage collector, which
    # warns (ResourceWarning) in whichever later test it happens to run.
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    """Yield the app, its database migrated to the newest revision once per session."""
    app = make_test_app(database_url)
    with app.app_context():
        upgrade()
    yield app
    dispose_app(app)


def _empty_all_tables() -> None:
    tables = [table for table in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(table.name for table in tables)
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())
        connection.execute(sa.insert(Counter).values(name=SERVER_VERSION, value=0))


@pytest.fixture(autouse=True)
def clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Give every test that uses the app an empty database (counter at zero)."""
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        _empty_all_tables()
    yield
    with app.app_context():
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client for the app."""
    return app.test_client()


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> ApiHelper:
    """Return helpers that create users, events, tablets and leads through the API."""
    return ApiHelper(app, client)


@pytest.fixture
def booth(api: ApiHelper) -> Booth:
    """Return an event with a team (admin, marketer, staff, rep) and a paired tablet."""
    return make_booth(api)


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """Serve the app with waitress on a free loopback port; yield its base URL."""
    import threading

    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


@pytest.fixture
def app_factory(database_url: str) -> Iterator[Callable[..., Flask]]:
    """Return a maker of extra apps on the test database (with overrides); dispose them after.

    Tests make their extra apps here rather than with make_test_app, so none is left open.
    """
    made: list[Flask] = []

    def make(url: str | None = None, **overrides: object) -> Flask:
        made.append(make_test_app(url or database_url, **overrides))
        return made[-1]

    yield make
    for extra in made:
        dispose_app(extra)
