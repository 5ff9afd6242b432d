"""Migrations build the models' schema from an empty database, and go down again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade

from server.extensions import db
from tests.conftest import POSTGRES_URL, dispose_app, make_test_app


@pytest.fixture
def empty_app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    """Yield an app on a database with no tables at all."""
    if POSTGRES_URL:
        # A second schema beside the session's, so the shared one stays migrated.
        url = database_url.replace("lbtest_", "lbmig_")
        schema = url.rsplit("%3D", 1)[1]
        admin = sa.create_engine(url.split("?")[0])
        with admin.begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    else:
        url = f"sqlite:///{tmp_path}/empty.sqlite3"
    app = make_test_app(url)
    yield app
    dispose_app(app)
    if POSTGRES_URL:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _differences() -> list:
    with db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), db.metadata)


def test_upgrade_from_empty_matches_the_models(empty_app: Flask):
    with empty_app.app_context():
        upgrade()
        assert _differences() == []
        counter = db.session.execute(sa.text("SELECT value FROM counters")).scalar_one()
        assert counter == 0


def test_downgrade_to_empty_and_back(empty_app: Flask):
    with empty_app.app_context():
        upgrade()
        downgrade(revision="base")
        tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
        assert _differences() == []
