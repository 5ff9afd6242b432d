"""Rate limits on login, pairing and sync: 429 in the API's error shape with Retry-After."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.limits import storage_url
from tests.helpers import ApiHelper, Booth

REDIS_URL = os.environ.get("LEADBRIDGE_TEST_REDIS_URL")


@pytest.fixture
def limited_app(app: Flask, app_factory: Callable[..., Flask]) -> Callable[..., Flask]:
    """Return a maker of apps on the test database with rate limits on and tight."""

    def make(**overrides: object) -> Flask:
        tight: dict[str, object] = {
            "LEADBRIDGE_RATELIMIT_ENABLED": True,
            "LEADBRIDGE_RATELIMIT_LOGIN": "3 per minute",
            "LEADBRIDGE_RATELIMIT_PAIRING": "2 per minute",
            "LEADBRIDGE_RATELIMIT_SYNC": "4 per minute",
        }
        return app_factory(**{**tight, **overrides})

    return make


def assert_too_many(response: object) -> None:
    """Check a 429 in the one error shape, with a usable Retry-After."""
    assert response.status_code == 429, response.json
    body = response.json
    assert body["code"] == 429
    assert body["status"] == "Too Many Requests"
    assert "Retry-After" in body["message"]
    assert 0 < int(response.headers["Retry-After"]) <= 60


def _login(client: FlaskClient, email: str) -> int:
    return client.post(
        "/api/v1/auth/login", json={"email": email, "password": "wrong password!"}
    ).status_code


def test_login_is_limited_per_address(limited_app: Callable[..., Flask], api: ApiHelper) -> None:
    client = limited_app().test_client()
    person = api.person("rep")
    assert [_login(client, person.email) for _ in range(3)] == [401, 401, 401]
    response = client.post(
        "/api/v1/auth/login", json={"email": person.email, "password": "correct horse battery"}
    )
    assert_too_many(response)
    assert "token" not in response.json
    # Another address has its own allowance.
    other = client.post(
        "/api/v1/auth/login",
        json={"email": person.email, "password": "correct horse battery"},
        environ_base={"REMOTE_ADDR": "127.0.0.2"},
    )
    assert other.status_code == 201


def test_pairing_is_limited(limited_app: Callable[..., Flask], booth: Booth) -> None:
    client = limited_app().test_client()
    body = {"code": "WRONG-CODE-0000", "name": "Guess"}
    codes = [client.post("/api/v1/devices/pair", json=body).status_code for _ in range(2)]
    assert 429 not in codes
    assert_too_many(client.post("/api/v1/devices/pair", json=body))


def test_sync_is_limited_per_tablet_not_per_address(
    limited_app: Callable[..., Flask], api: ApiHelper, booth: Booth
) -> None:
    client = limited_app().test_client()
    second = api.tablet(booth.marketer, booth.event["id"], name="Second")
    for _ in range(4):
        assert client.get("/api/v1/sync/status", headers=booth.tablet.headers).status_code == 200
    assert_too_many(client.get("/api/v1/sync/pull?cursor=0", headers=booth.tablet.headers))
    # A push refused by the limit stores nothing.
    mutation = {
        "mutation_id": 1,
        "kind": "create",
        "lead_id": str(uuid.uuid4()),
        "fields": {"captured_by_id": booth.staff.id, "first_name": "Ann"},
    }
    refused = client.post(
        "/api/v1/sync/push", json={"mutations": [mutation]}, headers=booth.tablet.headers
    )
    assert_too_many(refused)
    leads = api.client.get("/api/v1/leads", headers=booth.marketer.headers).json
    assert leads["total"] == 0 and leads["items"] == []
    # The same address, another tablet: a venue's tablets share one public address.
    assert client.get("/api/v1/sync/status", headers=second.headers).status_code == 200


def test_limits_are_off_when_disabled(limited_app: Callable[..., Flask], api: ApiHelper) -> None:
    client = limited_app(LEADBRIDGE_RATELIMIT_ENABLED=False).test_client()
    person = api.person("rep")
    assert {_login(client, person.email) for _ in range(6)} == {401}


def test_counters_live_in_redis_when_configured() -> None:
    assert storage_url({}) == "memory://"
    assert storage_url({"LEADBRIDGE_REDIS_URL": "redis://r:6379/1"}) == "redis://r:6379/1"
    assert (
        storage_url(
            {
                "LEADBRIDGE_REDIS_URL": "redis://r:6379/1",
                "LEADBRIDGE_RATELIMIT_STORAGE_URL": "redis://other:6379/2",
            }
        )
        == "redis://other:6379/2"
    )


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis (LEADBRIDGE_TEST_REDIS_URL)")
def test_two_servers_share_counters_through_redis(
    limited_app: Callable[..., Flask], api: ApiHelper
) -> None:
    import redis

    # A database number of our own, so keys of other test runs are never touched.
    url = REDIS_URL.rsplit("/", 1)[0] + "/7"
    redis.Redis.from_url(url).flushdb()
    person = api.person("rep")
    first = limited_app(LEADBRIDGE_RATELIMIT_STORAGE_URL=url).test_client()
    assert [_login(first, person.email) for _ in range(3)] == [401, 401, 401]
    # A second server process starts with a fresh limiter; only Redis knows the count.
    second = limited_app(LEADBRIDGE_RATELIMIT_STORAGE_URL=url).test_client()
    assert_too_many(
        second.post("/api/v1/auth/login", json={"email": person.email, "password": "x" * 10})
    )
    redis.Redis.from_url(url).flushdb()
