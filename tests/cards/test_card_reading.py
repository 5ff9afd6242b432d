"""Card reading: the OCR job, its suggestions by pull and on the lead page, links and erasure."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bench.cardset import RenderedCard
from server.alerts.dispatcher import Dispatcher
from server.alerts.links import photo_url
from server.alerts.models import AlertJob, AlertKind, JobStatus
from server.attachments.models import CardPhoto
from server.attachments.storage import DiskStorage
from server.extensions import db
from sync import card_ocr
from tests.alerting import SmtpRecorder, smtp_for
from tests.cards.conftest import sha256
from tests.helpers import ApiHelper, Booth, move_past_ack_link_lifetime
from tests.web.webclient import post_form, web_login

pytestmark = pytest.mark.skipif(not card_ocr.available(), reason="rapidocr is not installed")
URL = "/api/v1/sync/attachments"
TYPED_COMPANY = "Typed At The Booth GmbH"


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpRecorder]:
    with smtp_for(app, monkeypatch) as recorder:
        yield recorder


def _upload(client: FlaskClient, booth: Booth, lead_id: str, jpeg: bytes) -> None:
    body = {"lead_id": lead_id, "sha256": sha256(jpeg), "size": len(jpeg)}
    assert client.post(URL, json=body, headers=booth.tablet.headers).status_code == 200
    done = client.put(
        f"{URL}/{lead_id}/{sha256(jpeg)}?offset=0", data=jpeg, headers=booth.tablet.headers
    )
    assert done.json["complete"] is True, done.json


def _card_lead(api: ApiHelper, booth: Booth) -> str:
    """Capture a lead with only the company typed, as staff do when a card is handed over."""
    blank = dict.fromkeys(("first_name", "last_name", "phone", "job_title"))
    lead = api.capture(booth.tablet, booth.staff, company=TYPED_COMPANY, **blank)
    return lead["id"]


@pytest.fixture
def read_card(
    app: Flask,
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    blobs: DiskStorage,
    dispatcher: Dispatcher,
    rendered: list[RenderedCard],
) -> tuple[str, RenderedCard]:
    """Capture a lead, upload its card photo and let the dispatcher run the reading job."""
    lead_id = _card_lead(api, booth)
    card = rendered[0]
    _upload(client, booth, lead_id, card.jpeg)
    dispatcher.run_once()
    return lead_id, card


def test_the_reading_job_stores_the_cards_fields_as_suggestions(
    app: Flask, read_card: tuple[str, RenderedCard]
) -> None:
    lead_id, card = read_card
    with app.app_context():
        photo = db.session.scalars(select(CardPhoto)).one()
        job = db.session.scalars(select(AlertJob).where(AlertJob.kind == AlertKind.CARD_READING))
        assert job.one().status == JobStatus.DELIVERED
        assert photo.suggestions["email"] == card.truth.email
        assert photo.suggestions["phone"] == card.truth.phone
        assert photo.suggestions["company"] == card.truth.company
        assert photo.server_version > 0


def test_suggestions_reach_the_tablet_by_pull_in_version_order(
    client: FlaskClient, booth: Booth, read_card: tuple[str, RenderedCard]
) -> None:
    lead_id, card = read_card
    pulled = client.get("/api/v1/sync/pull?cursor=0", headers=booth.tablet.headers).json
    versions = [change["version"] for change in pulled["changes"]]
    assert versions == sorted(versions)
    cards = [change for change in pulled["changes"] if change["kind"] == "card"]
    assert len(cards) == 1
    assert cards[0]["data"]["lead_id"] == lead_id
    assert cards[0]["data"]["sha256"] == sha256(card.jpeg)
    assert cards[0]["data"]["suggestions"]["email"] == card.truth.email
    after = client.get(
        f"/api/v1/sync/pull?cursor={pulled['next_cursor']}", headers=booth.tablet.headers
    )
    assert [c for c in after.json["changes"] if c["kind"] == "card"] == []


def test_the_lead_page_offers_only_fields_staff_left_empty(
    app: Flask, client: FlaskClient, booth: Booth, read_card: tuple[str, RenderedCard]
) -> None:
    lead_id, card = read_card
    web_login(client, booth.marketer.email)
    page = client.get(f"/web/leads/{lead_id}").get_data(as_text=True)
    assert 'id="business-card"' in page and "card-photo" in page
    assert 'id="accept-phone"' in page and card.truth.phone in page
    assert 'id="accept-company"' not in page  # staff typed one: it is never replaced
    assert 'id="accept-email"' not in page  # the capture had an email
    with app.app_context():
        photo_id = db.session.scalar(select(CardPhoto.id))
    image = client.get(f"/web/leads/{lead_id}/photos/{photo_id}")
    assert image.status_code == 200 and image.data == card.jpeg


def test_accepting_fills_one_field_and_never_overwrites_a_typed_one(
    app: Flask, client: FlaskClient, booth: Booth, read_card: tuple[str, RenderedCard]
) -> None:
    lead_id, card = read_card
    web_login(client, booth.marketer.email)
    with app.app_context():
        photo_id = db.session.scalar(select(CardPhoto.id))
    base = f"/web/leads/{lead_id}/photos/{photo_id}/accept"
    page = f"/web/leads/{lead_id}"
    assert post_form(client, f"{base}/phone", {}, token_from=page).status_code == 302
    refused = post_form(client, f"{base}/company", {}, token_from=page)
    assert refused.status_code == 302
    lead = client.get(f"/api/v1/leads/{lead_id}", headers=booth.marketer.headers).json
    assert lead["phone"] == card.truth.phone
    assert lead["company"] == TYPED_COMPANY
    assert lead["first_name"] is None  # not accepted: still empty
    # The tablet pulls the accepted value like any edit made on the web.
    pulled = client.get("/api/v1/sync/pull?cursor=0", headers=booth.tablet.headers).json
    leads = [c["data"] for c in pulled["changes"] if c["kind"] == "lead"]
    assert leads[-1]["phone"] == card.truth.phone


def test_the_signed_photo_link_serves_the_photo_until_it_expires(
    app: Flask,
    client: FlaskClient,
    read_card: tuple[str, RenderedCard],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lead_id, card = read_card
    with app.test_request_context():
        import uuid

        link = photo_url(uuid.UUID(lead_id))
    path = link.split("://", 1)[-1].split("/", 1)[1]
    assert client.get(f"/{path}").data == card.jpeg
    assert client.get(f"/{path}x").status_code == 404
    move_past_ack_link_lifetime(monkeypatch)
    assert client.get(f"/{path}").status_code == 404


def test_erasure_deletes_the_photo_rows_and_bytes(
    app: Flask,
    client: FlaskClient,
    booth: Booth,
    blobs: DiskStorage,
    read_card: tuple[str, RenderedCard],
) -> None:
    lead_id, card = read_card
    lead = client.get(f"/api/v1/leads/{lead_id}", headers=booth.admin.headers).json
    erased = client.post(
        "/api/v1/privacy/erase",
        json={"email": lead["email"], "confirm": True},
        headers=booth.admin.headers,
    )
    assert erased.json["leads_erased"] == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CardPhoto)) == 0
    with pytest.raises(FileNotFoundError):
        blobs.read(sha256(card.jpeg))
    # The tablet that still holds the photo is told to drop it.
    body = {"lead_id": lead_id, "sha256": sha256(card.jpeg), "size": len(card.jpeg)}
    assert client.post(URL, json=body, headers=booth.tablet.headers).status_code == 410


def test_the_reps_alert_links_the_photo_when_it_is_there(
    app: Flask,
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    blobs: DiskStorage,
    dispatcher: Dispatcher,
    smtp: SmtpRecorder,
    rendered: list[RenderedCard],
) -> None:
    lead_id = _card_lead(api, booth)
    card = rendered[0]
    _upload(client, booth, lead_id, card.jpeg)
    dispatcher.run_once()
    alerts = [m for m in smtp.wait_for(1) if booth.rep.email in m["To"]]
    body = alerts[0].get_body(("plain",)).get_content()
    link = next(line for line in body.splitlines() if "/card-photo/" in line).split()[-1]
    path = "/" + link.split("://", 1)[-1].split("/", 1)[1]
    assert client.get(path).data == card.jpeg


def test_photos_are_only_shown_to_people_who_may_see_the_lead(
    app: Flask,
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    read_card: tuple[str, RenderedCard],
) -> None:
    lead_id, _card = read_card
    with app.app_context():
        photo_id = db.session.scalar(select(CardPhoto.id))
    path = f"/web/leads/{lead_id}/photos/{photo_id}"
    assert client.get(path).status_code == 302  # not logged in: to the login page
    outsider = api.person("rep")  # not on the event's team, owns nothing of it
    web_login(client, outsider.email)
    assert client.get(path).status_code == 404
    accept = post_form(client, f"{path}/accept/phone", {}, token_from="/web/")
    assert accept.status_code == 404
