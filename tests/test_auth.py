"""Logging in and out, token expiry and revocation, and how tokens are stored."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.auth.models import ApiToken
from server.db_types import utcnow
from server.extensions import db
from server.users.models import Role
from tests.helpers import PASSWORD, ApiHelper, bearer


def test_login_returns_a_token_that_identifies_the_user(api: ApiHelper, client: FlaskClient):
    rep = api.person(Role.REP, email="rep@example.com")
    # Email matching ignores case and surrounding spaces.
    response = client.post(
        "/api/v1/auth/login", json={"email": "  REP@Example.com ", "password": PASSWORD}
    )
    assert response.status_code == 201
    assert response.json["user"]["id"] == rep.id
    assert "password" not in response.json["user"]
    me = client.get("/api/v1/auth/me", headers=bearer(response.json["token"]))
    assert me.status_code == 200 and me.json["email"] == "rep@example.com"


def test_wrong_password_and_unknown_email_look_the_same(api: ApiHelper, client: FlaskClient):
    api.person(Role.REP, email="rep@example.com")
    wrong = client.post("/api/v1/auth/login", json={"email": "rep@example.com", "password": "x"})
    unknown = client.post("/api/v1/auth/login", json={"email": "no@example.com", "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json


def test_tokens_are_stored_only_as_hashes(app: Flask, api: ApiHelper):
    person = api.person(Role.ADMIN)
    token = person.headers["Authorization"].removeprefix("Bearer ")
    with app.app_context():
        stored = db.session.scalars(sa.select(ApiToken.token_hash)).all()
    assert token not in stored
    assert len(stored) == 1 and len(stored[0]) == 64


def test_logout_revokes_the_token(api: ApiHelper, client: FlaskClient):
    person = api.person(Role.MARKETER)
    assert client.post("/api/v1/auth/logout", headers=person.headers).status_code == 204
    response = client.get("/api/v1/auth/me", headers=person.headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_tokens_are_refused(app: Flask, api: ApiHelper, client: FlaskClient):
    person = api.person(Role.MARKETER)
    with app.app_context():
        db.session.execute(sa.update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert client.get("/api/v1/auth/me", headers=person.headers).status_code == 401


def test_deactivated_users_lose_access_at_once(api: ApiHelper, client: FlaskClient):
    admin = api.person(Role.ADMIN)
    rep = api.person(Role.REP)
    response = client.patch(
        f"/api/v1/users/{rep.id}", json={"active": False}, headers=admin.headers
    )
    assert response.status_code == 200
    assert client.get("/api/v1/auth/me", headers=rep.headers).status_code == 401
    again = client.post("/api/v1/auth/login", json={"email": rep.email, "password": PASSWORD})
    assert again.status_code == 401


def test_missing_or_malformed_authorization_is_401(client: FlaskClient):
    for headers in ({}, {"Authorization": "Basic abc"}, bearer("lbu_nope"), bearer("other")):
        response = client.get("/api/v1/events", headers=headers)
        assert response.status_code == 401
        assert response.json["code"] == 401 and response.json["message"]
