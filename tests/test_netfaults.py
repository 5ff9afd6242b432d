"""The fault-injecting proxy loses what it is told to lose, and nothing else."""

from __future__ import annotations

import pytest
import requests

from tests.netfaults import FaultyProxy


def test_a_clean_proxy_forwards(live_server: str):
    with FaultyProxy(live_server) as proxy:
        response = requests.get(f"{proxy.url}/api/openapi.json", timeout=10)
    assert response.status_code == 200 and proxy.forwarded == 1


def test_a_lost_response_still_reached_the_server(live_server: str):
    with FaultyProxy(live_server, drop_response=1.0) as proxy:
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{proxy.url}/api/openapi.json", timeout=10)
    assert proxy.dropped_responses == 1 and proxy.forwarded == 0


def test_a_lost_request_never_reaches_the_server(live_server: str):
    with FaultyProxy(live_server, drop_request=1.0) as proxy:
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{proxy.url}/api/openapi.json", timeout=10)
        proxy.heal()
        assert requests.get(f"{proxy.url}/api/openapi.json", timeout=10).status_code == 200
    assert proxy.dropped_requests == 1
