"""Card photo uploads: declared, resumed from the server's offset, checksummed, exactly once."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.alerts.models import AlertJob, AlertKind
from server.attachments.models import CardPhoto
from server.attachments.storage import DiskStorage
from server.extensions import db
from tests.cards.conftest import sha256
from tests.helpers import ApiHelper, Booth

URL = "/api/v1/sync/attachments"
PHOTO = bytes(range(256)) * 1000  # 256,000 bytes


def _lead(api: ApiHelper, booth: Booth) -> str:
    return api.capture(booth.tablet, booth.staff)["id"]


def _declare(client: FlaskClient, booth: Booth, lead_id: str, data: bytes = PHOTO):
    body = {"lead_id": lead_id, "sha256": sha256(data), "size": len(data)}
    return client.post(URL, json=body, headers=booth.tablet.headers)


def _chunk(client: FlaskClient, booth: Booth, lead_id: str, offset: int, data: bytes, whole=PHOTO):
    return client.put(
        f"{URL}/{lead_id}/{sha256(whole)}?offset={offset}",
        data=data,
        headers={**booth.tablet.headers, "Content-Type": "application/octet-stream"},
    )


def _reading_jobs(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).where(AlertJob.kind == AlertKind.CARD_READING)
        )


def test_upload_in_chunks_stores_the_photo_and_queues_one_reading(
    app: Flask, client: FlaskClient, api: ApiHelper, booth: Booth, blobs: DiskStorage
) -> None:
    lead_id = _lead(api, booth)
    declared = _declare(client, booth, lead_id)
    assert declared.status_code == 200, declared.json
    assert declared.json["received"] == 0 and declared.json["complete"] is False
    first = _chunk(client, booth, lead_id, 0, PHOTO[:100_000])
    assert first.json["received"] == 100_000
    last = _chunk(client, booth, lead_id, 100_000, PHOTO[100_000:])
    assert last.status_code == 200 and last.json["complete"] is True
    assert blobs.read(sha256(PHOTO)) == PHOTO
    assert _reading_jobs(app) == 1


def test_a_repeated_chunk_is_refused_with_the_offset_to_go_on_from(
    client: FlaskClient, api: ApiHelper, booth: Booth, blobs: DiskStorage
) -> None:
    lead_id = _lead(api, booth)
    _declare(client, booth, lead_id)
    _chunk(client, booth, lead_id, 0, PHOTO[:1000])
    again = _chunk(client, booth, lead_id, 0, PHOTO[:1000])
    assert again.status_code == 409
    assert again.json["errors"] == {"offset": 1000}
    asked = client.get(f"{URL}/{lead_id}/{sha256(PHOTO)}", headers=booth.tablet.headers)
    assert asked.json["received"] == 1000


def test_duplicate_upload_is_stored_and_read_exactly_once(
    app: Flask, client: FlaskClient, api: ApiHelper, booth: Booth, blobs: DiskStorage
) -> None:
    lead_id = _lead(api, booth)
    for _ in range(2):
        assert _declare(client, booth, lead_id).status_code == 200
        done = _chunk(client, booth, lead_id, 0, PHOTO)
        assert done.status_code == 200 and done.json["complete"] is True
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CardPhoto)) == 1
    assert _reading_jobs(app) == 1


def test_bytes_that_do_not_match_the_sha256_are_dropped_and_start_again(
    app: Flask, client: FlaskClient, api: ApiHelper, booth: Booth, blobs: DiskStorage
) -> None:
    lead_id = _lead(api, booth)
    _declare(client, booth, lead_id)
    corrupted = b"\xff" + PHOTO[1:]
    wrong = _chunk(client, booth, lead_id, 0, corrupted)
    assert wrong.status_code == 422
    assert wrong.json["errors"] == {"offset": 0}
    assert _reading_jobs(app) == 0
    right = _chunk(client, booth, lead_id, 0, PHOTO)
    assert right.json["complete"] is True
    assert blobs.read(sha256(PHOTO)) == PHOTO


def test_only_the_tablet_that_captured_the_lead_may_upload(
    client: FlaskClient, api: ApiHelper, booth: Booth, blobs: DiskStorage
) -> None:
    lead_id = _lead(api, booth)
    other = api.tablet(booth.marketer, booth.event["id"], name="Other")
    body = {"lead_id": lead_id, "sha256": sha256(PHOTO), "size": len(PHOTO)}
    assert client.post(URL, json=body, headers=other.headers).status_code == 403
    assert client.post(URL, json=body, headers=booth.rep.headers).status_code == 403
    assert client.post(URL, json=body).status_code == 401
    _declare(client, booth, lead_id)
    stolen = client.put(
        f"{URL}/{lead_id}/{sha256(PHOTO)}?offset=0", data=PHOTO, headers=other.headers
    )
    assert stolen.status_code == 403


def test_a_photo_of_a_lead_not_pushed_yet_is_refused_until_it_is(
    client: FlaskClient, booth: Booth, blobs: DiskStorage
) -> None:
    refused = _declare(client, booth, str(uuid.uuid4()))
    assert refused.status_code == 404
    assert refused.json["message"].startswith("No such lead")


def test_bad_requests_are_4xx_in_the_error_shape(
    client: FlaskClient, api: ApiHelper, booth: Booth, blobs: DiskStorage
) -> None:
    lead_id = _lead(api, booth)
    bad = client.post(
        URL, json={"lead_id": lead_id, "sha256": "zz", "size": 0}, headers=booth.tablet.headers
    )
    assert bad.status_code == 422 and set(bad.json["errors"]["json"]) == {"sha256", "size"}
    _declare(client, booth, lead_id)
    too_long = _chunk(client, booth, lead_id, 0, PHOTO + b"x")
    assert too_long.status_code == 422
    empty = _chunk(client, booth, lead_id, 0, b"")
    assert empty.status_code == 422
    unnamed = client.get(f"{URL}/{lead_id}/not-a-sha", headers=booth.tablet.headers)
    assert unnamed.status_code == 404 and unnamed.json["code"] == 404
