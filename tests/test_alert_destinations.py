"""Which addresses alert webhooks may be posted to (server/alerts/destinations.py)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.alerts.destinations import DestinationRefused, check_destination, parse_networks
from tests.helpers import Booth

INSIDE = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://10.1.2.3/hook",
    "https://192.168.0.10/hook",
    "http://172.16.5.5/hook",
    "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[fd00::1]/hook",
    "http://0.0.0.0/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
]


@pytest.mark.parametrize("url", INSIDE)
def test_addresses_inside_the_network_are_refused(url: str) -> None:
    with pytest.raises(DestinationRefused):
        check_destination(url)


def test_public_addresses_pass() -> None:
    check_destination("https://93.184.215.14/hooks/leads")
    check_destination("https://[2606:4700::6810:85e5]/hook")


@pytest.mark.parametrize("url", ["ftp://93.184.215.14/x", "file:///etc/passwd", "http:///x"])
def test_urls_that_are_not_http_are_refused(url: str) -> None:
    with pytest.raises(DestinationRefused):
        check_destination(url)


def test_allowed_networks_let_a_private_receiver_through() -> None:
    allowed = parse_networks("10.0.0.0/8, ::1/128")
    check_destination("http://10.20.30.40/crm", allowed)
    check_destination("http://[::1]:8080/hook", allowed)
    with pytest.raises(DestinationRefused):
        check_destination("http://192.168.1.1/hook", allowed)


def test_a_bad_network_setting_is_an_error() -> None:
    with pytest.raises(ValueError):
        parse_networks("10.0.0.0/33")


def test_a_url_written_as_a_private_address_is_refused_when_saved(
    app: Flask, client: FlaskClient, booth: Booth, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "LEADBRIDGE_WEBHOOK_ALLOWED_NETWORKS", "")
    event_path = f"/api/v1/events/{booth.event['id']}"
    before = client.get(event_path, headers=booth.marketer.headers).json["alerts"]
    for url in ("http://127.0.0.1:9000/hook", "http://localhost/hook", "http://[::1]/x"):
        refused = client.patch(
            event_path, json={"alerts": {"webhook_url": url}}, headers=booth.marketer.headers
        )
        assert refused.status_code == 422, url
        assert "webhook_url" in refused.json["errors"]["json"]["alerts"]
        chat = client.patch(
            f"/api/v1/users/{booth.rep.id}",
            json={"alerts": {"chat_webhook_url": url}},
            headers=booth.admin.headers,
        )
        assert chat.status_code == 422, url
    assert client.get(event_path, headers=booth.marketer.headers).json["alerts"] == before
    # A name is resolved at delivery, not when saved; an allowed network is accepted.
    named = {"alerts": {"webhook_url": "https://hooks.example.com/leads"}}
    assert client.patch(event_path, json=named, headers=booth.marketer.headers).status_code == 200
    monkeypatch.setitem(app.config, "LEADBRIDGE_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/8")
    inside = {"alerts": {"webhook_url": "http://10.1.2.3/crm"}}
    saved = client.patch(event_path, json=inside, headers=booth.marketer.headers)
    assert saved.status_code == 200 and saved.json["alerts"]["webhook_url"] == "http://10.1.2.3/crm"
