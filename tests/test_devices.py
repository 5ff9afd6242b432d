"""Pairing tablets with one-time codes, and revoking them."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.db_types import utcnow
from server.devices.models import Device, PairingCode
from server.extensions import db
from tests.helpers import Booth, bearer


def _code(client: FlaskClient, booth: Booth, **extra: object) -> str:
    response = client.post(
        "/api/v1/devices/pairing-codes",
        json={"event_id": booth.event["id"], **extra},
        headers=booth.marketer.headers,
    )
    assert response.status_code == 201
    return response.json["code"]


def test_pairing_gives_a_token_bound_to_the_event(booth: Booth, client: FlaskClient):
    code = _code(client, booth)
    # Staff type codes sloppily: lower case, no dash, O for 0.
    typed = code.lower().replace("-", " ").replace("0", "o")
    paired = client.post("/api/v1/devices/pair", json={"code": typed, "name": "Front desk"})
    assert paired.status_code == 201
    assert paired.json["event"]["id"] == booth.event["id"]
    assert paired.json["device"]["name"] == "Front desk"
    me = client.get("/api/v1/devices/me", headers=bearer(paired.json["token"]))
    assert me.status_code == 200 and me.json["event_id"] == booth.event["id"]


def test_a_code_pairs_only_once(booth: Booth, client: FlaskClient):
    code = _code(client, booth)
    first = client.post("/api/v1/devices/pair", json={"code": code, "name": "A"})
    second = client.post("/api/v1/devices/pair", json={"code": code, "name": "B"})
    assert first.status_code == 201
    assert second.status_code == 401
    assert "token" not in second.json


def test_expired_codes_do_not_pair(app: Flask, booth: Booth, client: FlaskClient):
    code = _code(client, booth, valid_minutes=5)
    with app.app_context():
        db.session.execute(
            sa.update(PairingCode).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    response = client.post("/api/v1/devices/pair", json={"code": code, "name": "Late"})
    assert response.status_code == 401


def test_codes_and_device_tokens_are_stored_only_as_hashes(
    app: Flask, booth: Booth, client: FlaskClient
):
    code = _code(client, booth)
    with app.app_context():
        code_hashes = db.session.scalars(sa.select(PairingCode.code_hash)).all()
        token_hashes = db.session.scalars(sa.select(Device.token_hash)).all()
    stored = " ".join(code_hashes + token_hashes)
    assert code.replace("-", "") not in stored and code not in stored
    assert booth.tablet.token not in stored


def test_revoked_tablets_get_401_on_their_next_request(booth: Booth, client: FlaskClient):
    url = f"/api/v1/devices/{booth.tablet.id}/revoke"
    assert client.get("/api/v1/devices/me", headers=booth.tablet.headers).status_code == 200
    assert client.post(url, headers=booth.rep.headers).status_code == 403
    revoked = client.post(url, headers=booth.marketer.headers)
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    assert client.get("/api/v1/devices/me", headers=booth.tablet.headers).status_code == 401
    listed = client.get(
        f"/api/v1/devices?event_id={booth.event['id']}&revoked=true",
        headers=booth.marketer.headers,
    )
    assert [device["id"] for device in listed.json] == [booth.tablet.id]


def test_only_managers_issue_codes_and_list_tablets(booth: Booth, client: FlaskClient):
    body = {"event_id": booth.event["id"]}
    for headers in (booth.rep.headers, booth.staff.headers, booth.tablet.headers):
        response = client.post("/api/v1/devices/pairing-codes", json=body, headers=headers)
        assert response.status_code == 403
        assert client.get("/api/v1/devices", headers=headers).status_code == 403


def test_inactive_events_issue_no_codes(booth: Booth, client: FlaskClient):
    client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"active": False},
        headers=booth.marketer.headers,
    )
    response = client.post(
        "/api/v1/devices/pairing-codes",
        json={"event_id": booth.event["id"]},
        headers=booth.marketer.headers,
    )
    assert response.status_code == 409


def test_tablet_last_seen_is_recorded(booth: Booth, client: FlaskClient):
    shown = client.get(f"/api/v1/devices/{booth.tablet.id}", headers=booth.marketer.headers)
    assert shown.json["last_seen_at"] is not None
