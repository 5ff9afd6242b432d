"""The real HTTP server used by sync and browser tests answers on loopback."""

from __future__ import annotations

import requests


def test_live_server_serves_the_api(live_server: str):
    response = requests.get(f"{live_server}/api/openapi.json", timeout=5)
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "leadbridge"
