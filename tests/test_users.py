"""Managing users: who may create, list, read and change them."""

from __future__ import annotations

from flask.testing import FlaskClient

from server.users.models import Role
from tests.helpers import ApiHelper


def test_admin_creates_a_user_with_normalised_email(api: ApiHelper, client: FlaskClient):
    admin = api.person(Role.ADMIN)
    body = {
        "email": "Nora.North@Example.COM",
        "name": "Nora North",
        "role": "rep",
        "password": "a long enough password",
        "territory": ["DE", "AT"],
        "products": ["scanner"],
        "daily_capacity": 20,
    }
    created = client.post("/api/v1/users", json=body, headers=admin.headers)
    assert created.status_code == 201
    assert created.json["email"] == "nora.north@example.com"
    assert created.json["territory"] == ["DE", "AT"]
    assert "password" not in created.json and "password_hash" not in created.json
    login = client.post(
        "/api/v1/auth/login", json={"email": body["email"], "password": body["password"]}
    )
    assert login.status_code == 201


def test_duplicate_email_is_a_conflict(api: ApiHelper, client: FlaskClient):
    admin = api.person(Role.ADMIN)
    body = {"email": "x@example.com", "name": "X", "role": "staff"}
    assert client.post("/api/v1/users", json=body, headers=admin.headers).status_code == 201
    body["email"] = "X@EXAMPLE.com"
    again = client.post("/api/v1/users", json=body, headers=admin.headers)
    assert again.status_code == 409


def test_invalid_user_fields_are_422(api: ApiHelper, client: FlaskClient):
    admin = api.person(Role.ADMIN)
    cases = [
        {"email": "not-an-email", "name": "X", "role": "rep"},
        {"email": "a@example.com", "name": "X", "role": "boss"},
        {"email": "a@example.com", "name": "X", "role": "rep", "password": "short"},
        {"email": "a@example.com", "name": "X", "role": "rep", "daily_capacity": -1},
        {"email": "a@example.com", "name": "", "role": "rep"},
        {"email": "a@example.com", "name": "X", "role": "rep", "is_admin": True},
    ]
    for body in cases:
        response = client.post("/api/v1/users", json=body, headers=admin.headers)
        assert response.status_code == 422, body
        assert response.json["errors"]
    assert len(client.get("/api/v1/users", headers=admin.headers).json) == 1


def test_only_admins_create_and_change_users(api: ApiHelper, client: FlaskClient):
    marketer = api.person(Role.MARKETER)
    rep = api.person(Role.REP)
    body = {"email": "n@example.com", "name": "N", "role": "admin"}
    for person in (marketer, rep):
        assert client.post("/api/v1/users", json=body, headers=person.headers).status_code == 403
        response = client.patch(
            f"/api/v1/users/{rep.id}", json={"role": "admin"}, headers=person.headers
        )
        assert response.status_code == 403


def test_managers_list_users_others_see_only_themselves(api: ApiHelper, client: FlaskClient):
    marketer = api.person(Role.MARKETER)
    rep = api.person(Role.REP)
    other = api.person(Role.REP)
    listed = client.get("/api/v1/users?role=rep", headers=marketer.headers)
    assert [user["id"] for user in listed.json] == sorted([rep.id, other.id])
    assert client.get("/api/v1/users", headers=rep.headers).status_code == 403
    assert client.get(f"/api/v1/users/{rep.id}", headers=rep.headers).status_code == 200
    assert client.get(f"/api/v1/users/{other.id}", headers=rep.headers).status_code == 404


def test_admin_cannot_lock_themselves_out(api: ApiHelper, client: FlaskClient):
    admin = api.person(Role.ADMIN)
    for change in ({"active": False}, {"role": "rep"}):
        response = client.patch(f"/api/v1/users/{admin.id}", json=change, headers=admin.headers)
        assert response.status_code == 409
    assert client.get("/api/v1/auth/me", headers=admin.headers).json["role"] == "admin"
