"""A card photographed on the tablet becomes accepted fields after sync (a real window)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bench.cardset import RenderedCard
from server.alerts.dispatcher import Dispatcher
from server.attachments.storage import DiskStorage
from sync import card_ocr
from sync.client import SyncClient
from sync.store import DeviceStore
from tests.alerting import Clock, SmtpRecorder, smtp_for
from tests.helpers import Booth
from tests.mobile.test_ui import run_scenario

pytestmark = [
    pytest.mark.skipif(
        shutil.which("xvfb-run") is None or shutil.which("Xvfb") is None,
        reason="xvfb-run/Xvfb not installed (apt-get install xvfb xauth libgl1-mesa-dri)",
    ),
    pytest.mark.skipif(not card_ocr.available(), reason="rapidocr is not installed"),
]
OFFLINE = "http://127.0.0.1:9"


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpRecorder]:
    with smtp_for(app, monkeypatch) as recorder:
        yield recorder


def test_a_card_photo_becomes_accepted_fields_after_sync(
    app: Flask,
    client: FlaskClient,
    booth: Booth,
    live_server: str,
    blobs: DiskStorage,
    dispatcher: Dispatcher,
    clock: Clock,
    rendered: list[RenderedCard],
    tmp_path: Path,
) -> None:
    card = rendered[1]
    photo = tmp_path / "card.jpg"
    photo.write_bytes(card.jpeg)
    path = tmp_path / "tablet.sqlite3"
    with DeviceStore(path) as store:
        store.set_pairing(live_server, booth.tablet.id, booth.event["id"], booth.tablet.token)
        with SyncClient(store, timeout=10.0) as sync:
            sync.sync_once()  # the event and its team
        # The photo is taken with no server to reach.
        store.set_pairing(OFFLINE, booth.tablet.id, booth.event["id"], booth.tablet.token)
    path.with_name(path.stem + ".settings.json").write_text(
        json.dumps({"staff_id": booth.staff.id, "staff_name": "Sam", "kiosk": False})
    )

    taken = run_scenario("card_photo", path, tmp_path, photo=str(photo))
    lead_id = taken["lead"]
    assert len(taken["photos"]) == 1 and taken["photos"][0]["uploaded"] is False

    with DeviceStore(path) as store:
        store.set_pairing(live_server, booth.tablet.id, booth.event["id"], booth.tablet.token)
        with SyncClient(store, timeout=10.0) as sync:
            assert sync.sync_once().photos == 1  # the lead, then its photo
            clock.advance(minutes=1)  # the test's clock stood still while the app ran
            dispatcher.run_once()  # the server reads the card
            sync.sync_once()  # and the tablet pulls what it read
        offered = store.card_suggestions(lead_id)
        assert offered.get("phone") == card.truth.phone
        assert "company" not in offered and "email" not in offered  # typed: never replaced
        store.set_pairing(OFFLINE, booth.tablet.id, booth.event["id"], booth.tablet.token)

    accepted = run_scenario("card_suggestions", path, tmp_path, lead=lead_id)
    assert "phone" in accepted["offered"] and "company" not in accepted["offered"]
    assert accepted["form"]["phone"] == card.truth.phone
    assert accepted["form"]["company"] == "Typed At The Booth GmbH"
    assert accepted["form"]["email"] == "typed.at.booth@example.com"

    with DeviceStore(path) as store:
        store.set_pairing(live_server, booth.tablet.id, booth.event["id"], booth.tablet.token)
        with SyncClient(store, timeout=10.0) as sync:
            sync.sync_once()
    lead = client.get(f"/api/v1/leads/{lead_id}", headers=booth.marketer.headers).json
    assert lead["phone"] == card.truth.phone
    assert f"{lead['first_name']} {lead['last_name']}" == card.truth.name
    assert lead["company"] == "Typed At The Booth GmbH"
    assert lead["email"] == "typed.at.booth@example.com"
