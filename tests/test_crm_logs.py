"""CRM calls leave no person and no credential in the logs, even at DEBUG and on retries.

HubSpot's read-by-email puts the address in the URL path (URL-encoded), and Pipedrive
takes its token in the query string; HTTP clients log URLs when they retry, and at DEBUG.
"""

from __future__ import annotations

import logging

import pytest

from server.crm.base import CrmError, Person
from server.crm.hubspot import HubSpotConnector
from server.crm.pipedrive import PipedriveConnector
from server.privacy.scrub import install_log_scrubbing, scrub
from tests.crm_peers import FakeHubSpot, FakePipedrive

TOKEN = "pd-very-secret-token-123"


def test_scrub_hides_encoded_addresses_and_url_tokens() -> None:
    line = "GET /crm/v3/objects/contacts/ann.example%40example.com?idProperty=email"
    assert "example.com" not in scrub(line) and "[email]" in scrub(line)
    assert TOKEN not in scrub(f"GET /v1/persons/search?term=x&api_token={TOKEN} HTTP/1.1")
    assert scrub("dealstage=closedwon") == "dealstage=closedwon"


def test_retried_reads_and_debug_lines_name_nobody(caplog: pytest.LogCaptureFixture) -> None:
    install_log_scrubbing()
    caplog.set_level(logging.DEBUG)
    person = Person("ann.secret@example.com", None, {"email": "ann.secret@example.com"})
    with FakeHubSpot("pat-x", hang_seconds=0.6) as hubspot, FakePipedrive(TOKEN) as pipedrive:
        # A timed-out read is retried by the client, which logs the URL it retries.
        hubspot.fail_only, hubspot.fail_next = "GET /crm/v3/objects/contacts/", ["timeout"]
        HubSpotConnector("pat-x", hubspot.url, timeout=0.3).find_by_email(person.email)
        pipedrive.fail_next = ["500"]
        with pytest.raises(CrmError):
            PipedriveConnector(TOKEN, pipedrive.url).upsert_person(person, None)
        PipedriveConnector(TOKEN, pipedrive.url).upsert_person(person, None)
    assert "Retrying" in caplog.text, "the client logged its retry (with the URL)"
    assert "ann.secret" not in caplog.text and "ann.secret%40" not in caplog.text
    assert TOKEN not in caplog.text
