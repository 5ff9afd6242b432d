"""Security properties across the server, filling the gaps the per-resource tests leave.

Per-resource tests already cover: user tokens hashed, expiring and revoked by logout
(test_auth.py); pairing codes single-use, expiring, hashed, and revoked tablets refused
(test_devices.py); webhook signature round trip, tampering, tolerance and rotation
(test_alert_channels.py); every endpoint as every role and as a revoked tablet
(test_access.py). Here: a sweep of every column of every table for secrets in the
clear, the token lifetime, signed acknowledge links against tampering, foreign keys
and expiry, and a real delivered webhook replayed after its lifetime.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import itsdangerous.timed
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from server.alerts.links import ACK_SALT, ack_url
from server.alerts.signing import DEFAULT_TOLERANCE_S, signature_header, verify
from server.auth.tokens import normalise_pairing_code
from server.extensions import db
from tests.helpers import (
    PASSWORD,
    ApiHelper,
    Booth,
    bearer,
    move_past_ack_link_lifetime,
    tampered_signature,
)


def _all_stored_text(app: Flask) -> str:
    """Return every value of every row of every table, as one string."""
    parts: list[str] = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)):
                parts.extend(json.dumps(value, default=str) for value in row)
    return "\n".join(parts)


def test_no_secret_is_stored_in_the_clear_anywhere(
    app: Flask, api: ApiHelper, booth: Booth, client: FlaskClient
) -> None:
    login_token = api.login(booth.rep.email)["Authorization"].removeprefix("Bearer ")
    unused = client.post(
        "/api/v1/devices/pairing-codes",
        json={"event_id": booth.event["id"]},
        headers=booth.marketer.headers,
    ).json["code"]
    used = client.post(
        "/api/v1/devices/pairing-codes",
        json={"event_id": booth.event["id"]},
        headers=booth.marketer.headers,
    ).json["code"]
    paired = client.post("/api/v1/devices/pair", json={"code": used, "name": "Sweep"}).json
    stored = _all_stored_text(app)
    secrets = {
        "login token": login_token,
        "tablet token": paired["token"],
        "booth tablet token": booth.tablet.token,
        "unused pairing code": normalise_pairing_code(unused),
        "used pairing code": normalise_pairing_code(used),
        "password": PASSWORD,
    }
    for what, secret in secrets.items():
        assert secret not in stored, f"{what} is stored in the clear"
    assert unused not in stored and used not in stored
    # The sweep sees the hashes, so it would have seen the secrets.
    assert hashlib.sha256(login_token.encode()).hexdigest() in stored
    assert hashlib.sha256(paired["token"].encode()).hexdigest() in stored


def test_login_tokens_live_as_long_as_configured(app: Flask, api: ApiHelper) -> None:
    person = api.person("marketer")
    response = api.client.post(
        "/api/v1/auth/login", json={"email": person.email, "password": PASSWORD}
    )
    expires = datetime.fromisoformat(response.json["expires_at"])
    expected = datetime.now(UTC) + timedelta(hours=app.config["LEADBRIDGE_TOKEN_TTL_HOURS"])
    assert abs((expires - expected).total_seconds()) < 60


def test_a_token_from_a_logout_is_not_accepted_by_any_endpoint(
    api: ApiHelper, booth: Booth, client: FlaskClient
) -> None:
    headers = api.login(booth.marketer.email)
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    for path in ("/api/v1/events", "/api/v1/leads", "/api/v1/devices", "/api/v1/auth/me"):
        assert client.get(path, headers=headers).status_code == 401
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 401


def test_a_revoked_tablet_cannot_sync_or_pair_again_with_its_token(
    booth: Booth, client: FlaskClient
) -> None:
    client.post(f"/api/v1/devices/{booth.tablet.id}/revoke", headers=booth.marketer.headers)
    for method, path in (
        ("get", "/api/v1/sync/status"),
        ("get", "/api/v1/sync/pull?cursor=0"),
        ("post", "/api/v1/sync/push"),
    ):
        response = getattr(client, method)(path, headers=booth.tablet.headers, json={})
        assert response.status_code == 401, path
    # Its token is not a pairing code either.
    again = client.post("/api/v1/devices/pair", json={"code": booth.tablet.token, "name": "x"})
    assert again.status_code in (401, 422)


# --- signed acknowledge links ----------------------------------------------------------------


def _ack_path(app: Flask, lead_id: str, rep_id: int) -> str:
    with app.test_request_context():
        url = ack_url(uuid.UUID(lead_id), rep_id)
    return url.removeprefix(app.config["LEADBRIDGE_PUBLIC_URL"])


def _status(client: FlaskClient, booth: Booth, lead_id: str) -> str:
    return client.get(f"/api/v1/leads/{lead_id}", headers=booth.marketer.headers).json["status"]


@pytest.fixture
def owned_lead(api: ApiHelper, booth: Booth, client: FlaskClient) -> dict[str, Any]:
    """Return a lead routed to the booth's rep."""
    lead = api.capture(booth.tablet, booth.staff)
    assert lead["owner_id"] == booth.rep.id
    assert _status(client, booth, lead["id"]) == "assigned"
    return lead


def test_a_tampered_ack_link_acknowledges_nothing(
    app: Flask, booth: Booth, client: FlaskClient, owned_lead: dict[str, Any]
) -> None:
    path = _ack_path(app, owned_lead["id"], booth.rep.id)
    token = path.removeprefix("/ack/")
    payload, timestamp, signature = token.split(".")
    someone_else = URLSafeTimedSerializer("x").dumps({"lead": owned_lead["id"], "rep": 9})
    flipped = tampered_signature(signature)
    far_future = itsdangerous.encoding.base64_encode(b"\x7f\xff\xff\xff").decode()
    claim = {"lead": owned_lead["id"], "rep": booth.rep.id}
    forged = [
        # Someone else's claim under this link's signature.
        f"/ack/{someone_else.split('.')[0]}.{timestamp}.{signature}",
        # A flipped signature character.
        f"/ack/{payload}.{timestamp}.{flipped}",
        # A later timestamp under the old signature (to stretch the lifetime).
        f"/ack/{payload}.{far_future}.{signature}",
        # Signed with another key, or for another purpose with ours.
        "/ack/" + URLSafeTimedSerializer("not-our-key", salt=ACK_SALT).dumps(claim),
        "/ack/" + URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="other").dumps(claim),
    ]
    for bad in forged:
        assert client.post(bad).status_code == 404, bad
        assert client.get(bad).status_code == 404, bad
    assert _status(client, booth, owned_lead["id"]) == "assigned"


def test_an_ack_link_past_its_lifetime_is_refused(
    app: Flask,
    booth: Booth,
    client: FlaskClient,
    owned_lead: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = _ack_path(app, owned_lead["id"], booth.rep.id)
    move_past_ack_link_lifetime(monkeypatch)
    assert client.post(path).status_code == 404
    assert _status(client, booth, owned_lead["id"]) == "assigned"
    monkeypatch.undo()
    # Within its lifetime the very same link works: the refusal was the age.
    assert client.post(path).status_code == 200
    assert _status(client, booth, owned_lead["id"]) == "acknowledged"


def test_an_ack_link_for_another_rep_does_not_take_the_lead(
    app: Flask, api: ApiHelper, booth: Booth, client: FlaskClient, owned_lead: dict[str, Any]
) -> None:
    other = api.person("rep")
    api.add_member(booth.marketer, booth.event["id"], other.id)
    response = client.post(_ack_path(app, owned_lead["id"], other.id))
    assert response.status_code == 409
    assert _status(client, booth, owned_lead["id"]) == "assigned"
    # A link naming a marketer (not a rep) is no link at all.
    assert client.post(_ack_path(app, owned_lead["id"], booth.marketer.id)).status_code == 404


# --- webhooks --------------------------------------------------------------------------------


def test_a_captured_webhook_replayed_after_its_lifetime_is_refused() -> None:
    secret, body = "whsec-test", json.dumps({"lead": {"id": str(uuid.uuid4())}}).encode()
    sent_at = int(time.time())
    header = signature_header(secret, body, now=sent_at)
    # What a receiver sees on arrival, and an attacker who captured it later.
    assert verify(secret, header, body, now=sent_at + 1)
    assert not verify(secret, header, body, now=sent_at + DEFAULT_TOLERANCE_S + 1)
    # Re-signing is impossible without the secret: moving t breaks the MAC.
    moved = header.replace(f"t={sent_at}", f"t={sent_at + DEFAULT_TOLERANCE_S}")
    assert not verify(secret, moved, body, now=sent_at + DEFAULT_TOLERANCE_S + 1)
    # And the body cannot be swapped under a fresh signature.
    assert not verify(secret, header, body.replace(b"lead", b"leaf"), now=sent_at + 1)


def test_bearer_tokens_are_not_accepted_in_query_strings_or_cookies(
    booth: Booth, client: FlaskClient
) -> None:
    token = booth.marketer.headers["Authorization"].removeprefix("Bearer ")
    assert client.get(f"/api/v1/events?access_token={token}").status_code in (401, 422)
    client.set_cookie("token", token)
    assert client.get("/api/v1/events").status_code == 401
    assert client.get("/api/v1/events", headers=bearer(token)).status_code == 200
