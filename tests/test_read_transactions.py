"""Requests that only read end their transaction with COMMIT; writes left uncommitted roll back."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from server.extensions import db
from server.users.models import Role, User
from server.versioning import current_server_version
from tests.helpers import ApiHelper, Booth, skip_unless_postgres

AppFactory = Callable[..., Flask]


@pytest.mark.postgres
def test_read_requests_keep_the_statements_postgresql_prepared(
    app: Flask, app_factory: AppFactory, booth: Booth
) -> None:
    skip_unless_postgres(app.config["SQLALCHEMY_DATABASE_URI"], "prepared statements")
    # Its own app, so its own pool: every request below uses the one connection.
    extra = app_factory()
    client = extra.test_client()
    for _ in range(8):  # psycopg prepares a statement on its sixth run
        response = client.get("/api/v1/leads", headers=booth.rep.headers)
        assert response.status_code == 200
    with extra.app_context():
        prepared = db.session.scalar(sa.text("SELECT count(*) FROM pg_prepared_statements"))
    # A ROLLBACK at the end of each read would have made psycopg deallocate them all.
    assert prepared > 0


def test_a_request_that_wrote_without_committing_is_rolled_back(app: Flask) -> None:
    with app.app_context():
        db.session.execute(
            sa.insert(User).values(
                email="never@example.com", name="Never", role="rep", password_hash="-"
            )
        )
    with app.app_context():
        assert db.session.scalar(sa.select(User).filter_by(email="never@example.com")) is None


def test_a_request_that_added_rows_without_committing_is_rolled_back(app: Flask) -> None:
    with app.app_context():
        db.session.add(User(email="pending@example.com", name="Pending", role=Role.REP))
    with app.app_context():
        assert db.session.scalar(sa.select(User).filter_by(email="pending@example.com")) is None


def test_a_refused_change_that_reserved_a_version_leaves_the_counter_alone(
    app: Flask, api: ApiHelper, booth: Booth
) -> None:
    lead = api.capture(booth.tablet, booth.staff)
    with app.app_context():
        before = current_server_version()
    refused = api.client.patch(
        f"/api/v1/leads/{lead['id']}",
        json={"status": "disqualified", "reason": None},
        headers=booth.rep.headers,
    )
    assert refused.status_code == 422, refused.json
    with app.app_context():
        assert current_server_version() == before
