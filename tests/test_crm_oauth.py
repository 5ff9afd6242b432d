"""Connections made with an OAuth app's refresh token: Salesforce and HubSpot on loopback.

The fakes (tests/crm_peers.py) answer the token endpoints as the CRMs document them
(tests/contracts/): a form-encoded refresh_token grant gives an access token, which
lapses (HubSpot: after expires_in; Salesforce: when the session times out, a 401
INVALID_SESSION_ID); a revoked refresh token is a 400 invalid_grant / BAD_REFRESH_TOKEN.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.alerts.dispatcher import Dispatcher
from server.alerts.models import JobStatus
from server.crm.credentials import unseal
from server.crm.models import CrmConnection
from server.extensions import db
from tests.alerting import Clock
from tests.crm_peers import FakeHubSpot, FakeSalesforce
from tests.crm_setup import (
    crm_jobs,
    deliver_until_settled,
    smtp,  # noqa: F401 (the dispatcher's fixture)
)
from tests.helpers import ApiHelper, Booth
from tests.test_crm_salesforce import salesforce  # noqa: F401 (the loopback org)
from tests.web.test_pages import logged_in
from tests.web.webclient import post_form

REFRESH = "5Aep861-refresh-token-very-secret"
CLIENT_ID = "3MVG9-client-id-quite-secret"
CLIENT_SECRET = "client-secret-1955279925"
SECRETS = (REFRESH, CLIENT_ID, CLIENT_SECRET)
LEAD_CREATE = "/services/data/v59.0/sobjects/Lead/"


def put_crm(client: FlaskClient, booth: Booth, body: dict[str, Any]) -> Any:
    """PUT the event's CRM connection; return the response."""
    return client.put(
        f"/api/v1/events/{booth.event['id']}/crm", json=body, headers=booth.marketer.headers
    )


def connect_oauth(
    client: FlaskClient, booth: Booth, kind: str, url: str, **fields: Any
) -> dict[str, Any]:
    """Connect the booth's event with refresh-token credentials (no token); return the answer."""
    body = {
        "kind": kind,
        "base_url": url,
        "refresh_token": REFRESH,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        **fields,
    }
    response = put_crm(client, booth, body)
    assert response.status_code == 200, response.json
    return response.json


def token_calls(fake: FakeSalesforce | FakeHubSpot) -> list[Any]:
    """Return the requests made to the fake's token endpoint."""
    return fake.calls("POST", fake.token_path)


def stored_secrets(app: Flask) -> dict[str, Any]:
    """Return the connection's credentials, unsealed."""
    with app.app_context():
        connection = db.session.scalar(db.select(CrmConnection))
        return unseal(app.config["SECRET_KEY"], connection.event_id, connection.credentials)


def dead_letters(client: FlaskClient, booth: Booth) -> list[dict[str, Any]]:
    """Return the dead CRM jobs, as admins see them."""
    answer = client.get("/api/v1/alerts?status=dead&kind=crm_sync", headers=booth.admin.headers)
    return answer.json["items"]


@pytest.fixture
def oauth_salesforce(salesforce: FakeSalesforce) -> FakeSalesforce:  # noqa: F811
    """The loopback org, with the connected app's refresh token known to it."""
    salesforce.add_refresh_token(REFRESH, CLIENT_ID, CLIENT_SECRET)
    return salesforce


@pytest.fixture
def hubspot(booth: Booth) -> Iterator[FakeHubSpot]:
    """A loopback HubSpot whose OAuth app is installed with REFRESH."""
    with FakeHubSpot("no-private-app-token", hang_seconds=1.5) as fake:
        fake.add_owner(booth.rep.email)
        fake.add_refresh_token(REFRESH, CLIENT_ID, CLIENT_SECRET)
        yield fake


def test_a_lead_reaches_salesforce_with_refresh_token_credentials(
    app: Flask,
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    oauth_salesforce: FakeSalesforce,
    dispatcher: Dispatcher,
    clock: Clock,
):
    answer = connect_oauth(client, booth, "salesforce", oauth_salesforce.url)
    assert answer["has_refresh_token"] is True
    lead = api.capture(booth.tablet, booth.staff)
    deliver_until_settled(dispatcher, clock)
    assert len(oauth_salesforce.leads_by_email(lead["email"])) == 1
    [grant] = token_calls(oauth_salesforce)
    assert grant.body == {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH,
    }
    [issued] = oauth_salesforce.issued
    api_calls = oauth_salesforce.calls(prefix=oauth_salesforce.prefix)
    assert {c.headers["Authorization"] for c in api_calls} == {f"Bearer {issued}"}
    with app.app_context():
        assert crm_jobs()[0].status == JobStatus.DELIVERED


def test_an_expired_session_is_refreshed_once_and_the_call_retried_without_a_duplicate(
    app: Flask,
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    oauth_salesforce: FakeSalesforce,
    dispatcher: Dispatcher,
    clock: Clock,
):
    connect_oauth(client, booth, "salesforce", oauth_salesforce.url)
    api.capture(booth.tablet, booth.staff)
    deliver_until_settled(dispatcher, clock)
    assert len(token_calls(oauth_salesforce)) == 1

    def lapse_on_create(request: Any) -> None:
        # The session times out between the Lead query and the Lead create.
        if request.method == "POST" and request.path == LEAD_CREATE:
            oauth_salesforce.on_request = None
            oauth_salesforce.expire_access_tokens()

    oauth_salesforce.on_request = lapse_on_create
    second = api.capture(booth.tablet, booth.staff)
    dispatcher.run_once()
    assert len(token_calls(oauth_salesforce)) == 2, "one refresh after the 401"
    assert len(oauth_salesforce.calls("POST", LEAD_CREATE)) == 3, "the refused create, retried"
    assert len(oauth_salesforce.leads_by_email(second["email"])) == 1
    with app.app_context():
        job = crm_jobs()[-1]
        assert (job.status, job.attempts) == (JobStatus.DELIVERED, 1)
    assert dead_letters(client, booth) == []


def test_a_token_endpoint_failure_is_retried(
    app: Flask,
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    oauth_salesforce: FakeSalesforce,
    dispatcher: Dispatcher,
    clock: Clock,
):
    connect_oauth(client, booth, "salesforce", oauth_salesforce.url)
    oauth_salesforce.fail_only = f"POST {oauth_salesforce.token_path}"
    oauth_salesforce.fail_next = ["500", "timeout"]
    lead = api.capture(booth.tablet, booth.staff)
    dispatcher.run_once()
    with app.app_context():
        assert crm_jobs()[0].status == JobStatus.PENDING
        assert "on token refresh" in crm_jobs()[0].last_error
    time.sleep(1.6)  # the timed-out answer is dropped
    deliver_until_settled(dispatcher, clock)
    assert len(oauth_salesforce.leads_by_email(lead["email"])) == 1
    with app.app_context():
        assert crm_jobs()[0].status == JobStatus.DELIVERED


def test_a_refused_refresh_token_dead_letters_until_the_crm_is_reconnected(
    app: Flask,
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    oauth_salesforce: FakeSalesforce,
    dispatcher: Dispatcher,
    clock: Clock,
):
    connect_oauth(client, booth, "salesforce", oauth_salesforce.url)
    api.capture(booth.tablet, booth.staff)
    deliver_until_settled(dispatcher, clock)
    # The connected app's access is revoked in Salesforce: tokens and refresh token go.
    oauth_salesforce.refresh_tokens.clear()
    oauth_salesforce.expire_access_tokens()
    second = api.capture(booth.tablet, booth.staff)
    dispatcher.run_once()
    [item] = dead_letters(client, booth)
    assert item["attempts"] == 1
    assert "400 invalid_grant on token refresh" in item["last_error"]
    assert "reconnect the CRM" in item["last_error"]
    assert not any(secret in item["last_error"] for secret in SECRETS)
    assert oauth_salesforce.leads_by_email(second["email"]) == []

    # Reconnected: a new refresh token; the app's client id and secret are kept.
    oauth_salesforce.add_refresh_token("5Aep861-new-refresh", CLIENT_ID, CLIENT_SECRET)
    again = put_crm(client, booth, {"kind": "salesforce", "refresh_token": "5Aep861-new-refresh"})
    assert again.status_code == 200, again.json
    retried = client.post(f"/api/v1/alerts/{item['id']}/retry", headers=booth.admin.headers)
    assert retried.status_code == 200
    deliver_until_settled(dispatcher, clock)
    assert len(oauth_salesforce.leads_by_email(second["email"])) == 1
    assert token_calls(oauth_salesforce)[-1].body["refresh_token"] == "5Aep861-new-refresh"


def test_the_connection_test_works_with_refresh_credentials(
    client: FlaskClient, booth: Booth, oauth_salesforce: FakeSalesforce
):
    connect_oauth(client, booth, "salesforce", oauth_salesforce.url)
    path = f"/api/v1/events/{booth.event['id']}/crm/test"
    tested = client.post(path, headers=booth.marketer.headers)
    assert tested.json == {"ok": True, "message": "Salesforce org reached"}
    assert len(token_calls(oauth_salesforce)) == 1
    oauth_salesforce.refresh_tokens.clear()
    failed = client.post(path, headers=booth.marketer.headers).json
    assert failed["ok"] is False and "reconnect the CRM" in failed["message"]
    assert not any(secret in failed["message"] for secret in SECRETS)


def test_hubspot_renews_before_expiry_and_keeps_the_refresh_token_it_hands_out(
    app: Flask,
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    dispatcher: Dispatcher,
    clock: Clock,
):
    hubspot.access_lifetime = 2.0  # renewed a second before it lapses
    hubspot.rotate_refresh_tokens = True  # the old refresh token stops working
    connect_oauth(client, booth, "hubspot", hubspot.url)
    first = api.capture(booth.tablet, booth.staff)
    deliver_until_settled(dispatcher, clock)
    assert len(token_calls(hubspot)) == 1
    [current] = hubspot.refresh_tokens
    assert stored_secrets(app)["refresh_token"] == current != REFRESH
    time.sleep(1.1)
    second = api.capture(booth.tablet, booth.staff)
    deliver_until_settled(dispatcher, clock)
    grants = token_calls(hubspot)
    assert len(grants) == 2 and grants[1].body["refresh_token"] == current
    # Renewed before it lapsed: every contact was created at the first try.
    creates = [c for c in hubspot.calls("POST") if c.path == "/crm/v3/objects/contacts"]
    assert len(creates) == 2
    assert len(hubspot.by_email(first["email"])) == len(hubspot.by_email(second["email"])) == 1
    [latest] = hubspot.refresh_tokens
    assert stored_secrets(app)["refresh_token"] == latest
    # A connector made from what is stored (the connection test) still gets in.
    tested = client.post(
        f"/api/v1/events/{booth.event['id']}/crm/test", headers=booth.marketer.headers
    )
    assert tested.json == {"ok": True, "message": "HubSpot account reached"}


def test_hubspot_refreshes_once_after_a_401_and_retries_the_call(
    app: Flask,
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    dispatcher: Dispatcher,
    clock: Clock,
):
    connect_oauth(client, booth, "hubspot", hubspot.url)
    dispatcher.run_once()
    hubspot.expire_access_tokens()  # revoked early, before its expires_in
    lead = api.capture(booth.tablet, booth.staff)
    deliver_until_settled(dispatcher, clock)
    assert len(token_calls(hubspot)) == 2
    assert len(hubspot.by_email(lead["email"])) == 1
    with app.app_context():
        assert (crm_jobs()[0].status, crm_jobs()[0].attempts) == (JobStatus.DELIVERED, 1)


def test_refresh_credentials_are_never_returned_shown_stored_in_clear_or_logged(
    app: Flask,
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    dispatcher: Dispatcher,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.DEBUG)
    answer = connect_oauth(client, booth, "hubspot", hubspot.url)
    shown = client.get(f"/api/v1/events/{booth.event['id']}/crm", headers=booth.marketer.headers)
    assert shown.json["has_refresh_token"] is True
    assert not {"refresh_token", "client_id", "client_secret", "token"} & set(shown.json)
    page = logged_in(app, booth.marketer).get(f"/web/events/{booth.event['id']}/settings/crm")
    assert "A refresh token is saved" in page.get_data(as_text=True)
    with app.app_context():
        stored = db.session.scalar(db.select(CrmConnection)).credentials
    api.capture(booth.tablet, booth.staff)
    deliver_until_settled(dispatcher, clock)
    hubspot.refresh_tokens.clear()
    hubspot.expire_access_tokens()
    api.capture(booth.tablet, booth.staff)
    dispatcher.run_once()  # a refused refresh: logged as a failure
    [item] = dead_letters(client, booth)
    tested = client.post(
        f"/api/v1/events/{booth.event['id']}/crm/test", headers=booth.marketer.headers
    )
    assert tested.json["ok"] is False and "BAD_REFRESH_TOKEN" in tested.json["message"]
    texts = {
        "answer": json.dumps(answer),
        "shown": shown.get_data(as_text=True),
        "page": page.get_data(as_text=True),
        "stored": stored,
        "dead letter": json.dumps(item),
        "test": json.dumps(tested.json),
        "logs": caplog.text,
    }
    for secret in (*SECRETS, *hubspot.issued):
        for where, text in texts.items():
            assert secret not in text, f"a credential in the {where}"
    assert "alert" in caplog.text  # the failure was logged, without the credentials


def test_the_form_connects_with_refresh_credentials_and_tests_them(
    app: Flask, booth: Booth, oauth_salesforce: FakeSalesforce
):
    browser = logged_in(app, booth.marketer)
    page = f"/web/events/{booth.event['id']}/settings/crm"
    form = {
        "kind": "salesforce",
        "base_url": oauth_salesforce.url,
        "refresh_token": REFRESH,
        "client_id": CLIENT_ID,
        "enabled": "on",
    }
    refused = post_form(browser, page, form, token_from=page)
    assert refused.status_code == 422
    assert "Client secret: Required with a refresh token." in refused.get_data(as_text=True)
    saved = post_form(browser, page, {**form, "client_secret": CLIENT_SECRET}, token_from=page)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    assert stored_secrets(app) == {
        "refresh_token": REFRESH,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    post_form(browser, f"{page}/test", {}, token_from=page)
    after = browser.get(page).get_data(as_text=True)
    assert "The CRM answered: Salesforce org reached." in after
    assert not any(secret in after for secret in SECRETS)


def test_a_token_or_a_complete_refresh_token_is_required(
    client: FlaskClient, booth: Booth, oauth_salesforce: FakeSalesforce
):
    url = oauth_salesforce.url
    nothing = put_crm(client, booth, {"kind": "salesforce", "base_url": url})
    assert nothing.status_code == 422 and "token" in nothing.json["errors"]["json"]
    half = put_crm(client, booth, {"kind": "salesforce", "base_url": url, "refresh_token": REFRESH})
    assert half.status_code == 422 and half.json["code"] == 422
    assert set(half.json["errors"]["json"]) == {"client_id", "client_secret"}
    assert REFRESH not in json.dumps(half.json)
    pipedrive = put_crm(
        client,
        booth,
        {
            "kind": "pipedrive",
            "refresh_token": REFRESH,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert pipedrive.status_code == 422 and "Pipedrive" in pipedrive.json["message"]
