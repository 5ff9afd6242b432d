"""Which addresses alert webhooks may be posted to (server/alerts/destinations.py)."""

from __future__ import annotations

import pytest

from server.alerts.destinations import DestinationRefused, check_destination, parse_networks

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
