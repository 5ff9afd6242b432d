"""The CRM settings section: connect, map fields and owners, test it; tokens never shown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.crm.models import CrmConnection
from server.extensions import db
from tests.crm_peers import FakeHubSpot
from tests.helpers import Booth
from tests.web.test_pages import logged_in
from tests.web.webclient import post_form

SECRET = "pat-na1-form-secret-42"


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with FakeHubSpot(SECRET) as fake:
        yield fake


def _page(booth: Booth) -> str:
    return f"/web/events/{booth.event['id']}/settings/crm"


def _connection(app: Flask) -> CrmConnection | None:
    with app.app_context():
        found = db.session.scalar(db.select(CrmConnection))
        if found is not None:
            db.session.expunge(found)
        return found


def test_a_marketer_connects_maps_and_tests_and_never_sees_the_token_again(
    app: Flask, booth: Booth, hubspot: FakeHubSpot
) -> None:
    client: FlaskClient = logged_in(app, booth.marketer)
    page = client.get(_page(booth))
    assert page.status_code == 200 and "Save CRM connection" in page.get_data(as_text=True)
    form = {
        "kind": "hubspot",
        "base_url": hubspot.url,
        "token": SECRET,
        "webhook_secret": "client-secret-77",
        "enabled": "on",
        "map_job_title": "job_function",
        "map_campaign": "-",
        f"owner_{booth.rep.id}": "holly@crm.example.com",
    }
    saved = post_form(client, _page(booth), form, token_from=_page(booth))
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    connection = _connection(app)
    assert connection is not None and connection.kind == "hubspot"
    assert connection.field_mapping == {"job_title": "job_function", "campaign": ""}
    assert connection.owner_mapping == {str(booth.rep.id): "holly@crm.example.com"}
    shown = client.get(_page(booth)).get_data(as_text=True)
    assert SECRET not in shown and "client-secret-77" not in shown
    assert "One is saved: leave blank to keep it." in shown
    assert 'value="job_function"' in shown and "/api/v1/crm/webhooks/" in shown

    # Saving again with the token left blank keeps it.
    form.pop("token")
    post_form(client, _page(booth), form, token_from=_page(booth))
    tested = post_form(client, f"{_page(booth)}/test", {}, token_from=_page(booth))
    assert tested.status_code == 302
    after = client.get(_page(booth)).get_data(as_text=True)
    assert "The CRM answered: HubSpot account reached." in after
    assert hubspot.calls("GET", "/crm/v3/owners/")[0].headers["Authorization"] == f"Bearer {SECRET}"

    hubspot.valid_tokens = {"rotated"}
    post_form(client, f"{_page(booth)}/test", {}, token_from=_page(booth))
    failed = client.get(_page(booth)).get_data(as_text=True)
    assert "The CRM test failed: hubspot: 401 on connection test" in failed
    assert SECRET not in failed


def test_refused_input_shows_errors_and_stores_nothing(app: Flask, booth: Booth) -> None:
    client = logged_in(app, booth.marketer)
    answer = post_form(
        client,
        _page(booth),
        {"kind": "hubspot", "map_email": "e mail", "token": "x"},
        token_from=_page(booth),
    )
    assert answer.status_code == 422
    assert "Field mapping" in answer.get_data(as_text=True)
    no_token = post_form(client, _page(booth), {"kind": "hubspot"}, token_from=_page(booth))
    assert no_token.status_code == 422 and "Token" in no_token.get_data(as_text=True)
    assert _connection(app) is None


def test_reps_and_staff_cannot_open_it(app: Flask, booth: Booth) -> None:
    for person in (booth.rep, booth.staff):
        assert logged_in(app, person).get(_page(booth)).status_code == 403
