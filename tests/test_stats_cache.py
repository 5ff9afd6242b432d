"""Dashboard figures are shared for a few seconds by everyone polling (server/stats/cache.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from server.stats.cache import REFRESH_AFTER
from tests.helpers import ApiHelper, Booth, make_booth

REDIS_URL = os.environ.get("LEADBRIDGE_TEST_REDIS_URL")
CACHE_SECONDS = 1.5


@pytest.fixture(params=["memory", "redis"])
def cached_app(
    request: pytest.FixtureRequest, app: Flask, app_factory: Callable[..., Flask]
) -> Flask:
    """Return an app on the (emptied) test database that caches figures, in memory or Redis."""
    settings: dict[str, Any] = {"LEADBRIDGE_STATS_CACHE_SECONDS": CACHE_SECONDS}
    if request.param == "redis":
        if not REDIS_URL:
            pytest.skip("needs Redis (LEADBRIDGE_TEST_REDIS_URL)")
        settings["LEADBRIDGE_REDIS_URL"] = REDIS_URL
        shared = redis.Redis.from_url(REDIS_URL)
        for key in shared.scan_iter("leadbridge:stats:*"):
            shared.delete(key)
    return app_factory(**settings)


def _stats(client: FlaskClient, booth: Booth, who: str = "marketer") -> Any:
    headers = getattr(booth, who).headers
    return client.get(f"/api/v1/events/{booth.event['id']}/stats", headers=headers)


def test_figures_are_shared_for_the_cache_time_then_recomputed(cached_app: Flask) -> None:
    client = cached_app.test_client()
    api = ApiHelper(cached_app, client)
    booth = make_booth(api)
    api.capture(booth.tablet, booth.staff)
    asked = time.monotonic()
    assert _stats(client, booth).json["totals"]["leads"] == 1
    api.capture(booth.tablet, booth.staff)
    again = _stats(client, booth).json["totals"]["leads"]
    if time.monotonic() - asked < CACHE_SECONDS:
        assert again == 1  # within the cache time: the figures computed first
    time.sleep(CACHE_SECONDS + 0.2)
    assert _stats(client, booth).json["totals"]["leads"] == 2


def test_cached_figures_equal_computed_ones(
    app: Flask, app_factory: Callable[..., Flask], api: ApiHelper, booth: Booth
) -> None:
    for _ in range(3):
        api.capture(booth.tablet, booth.staff)
    computed = _stats(app.test_client(), booth).json
    cached = app_factory(LEADBRIDGE_STATS_CACHE_SECONDS=60).test_client()
    _stats(cached, booth)
    kept = _stats(cached, booth).json
    assert kept == computed | {"generated_at": kept["generated_at"]}


def test_the_cache_does_not_open_figures_to_a_rep(cached_app: Flask) -> None:
    client = cached_app.test_client()
    booth = make_booth(ApiHelper(cached_app, client))
    assert _stats(client, booth).status_code == 200
    assert _stats(client, booth, "rep").status_code == 403


def test_a_poll_late_in_the_cache_time_renews_the_figures_in_the_background(
    cached_app: Flask, app_factory: Callable[..., Flask]
) -> None:
    seconds = 6.0  # long enough for a background refresh on a busy machine
    app = app_factory(
        LEADBRIDGE_STATS_CACHE_SECONDS=seconds,
        LEADBRIDGE_REDIS_URL=cached_app.config.get("LEADBRIDGE_REDIS_URL"),
    )
    client = app.test_client()
    api = ApiHelper(app, client)
    booth = make_booth(api)
    api.capture(booth.tablet, booth.staff)
    computed_at = time.monotonic()
    assert _stats(client, booth).json["totals"]["leads"] == 1
    api.capture(booth.tablet, booth.staff)
    time.sleep(seconds * REFRESH_AFTER + 0.1 - (time.monotonic() - computed_at))
    # This poll answers at once with the kept figures, and has them computed again.
    assert _stats(client, booth).json["totals"]["leads"] == 1
    renewed = None
    while time.monotonic() - computed_at < seconds - 0.2 and renewed != 2:
        time.sleep(0.1)
        renewed = _stats(client, booth).json["totals"]["leads"]
    # Renewed before the first figures' cache time ran out: no poll had to compute them.
    assert renewed == 2
