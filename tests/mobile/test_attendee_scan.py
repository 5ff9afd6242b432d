"""An id-only badge scanned offline fills the capture form from the attendee list (real window)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from flask import Flask

from sync.client import SyncClient
from sync.store import DeviceStore
from tests.attendees.lists import csv_bytes, import_list, people, web_client
from tests.helpers import ApiHelper, Booth
from tests.mobile.test_ui import run_scenario
from tests.web.webclient import post_form

pytestmark = pytest.mark.skipif(
    shutil.which("xvfb-run") is None or shutil.which("Xvfb") is None,
    reason="xvfb-run/Xvfb not installed (apt-get install xvfb xauth libgl1-mesa-dri)",
)


def test_an_id_only_badge_fills_the_form_offline_from_the_list(
    app: Flask, api: ApiHelper, booth: Booth, live_server: str, tmp_path: Path
) -> None:
    api.add_member(booth.admin, booth.event["id"], booth.marketer.id)
    client = web_client(app, booth.marketer)
    page = f"/web/events/{booth.event['id']}/attendees"
    assert post_form(client, page + "/rules", {"prefix": "REG-"}, page).status_code == 302
    import_list(client, booth.event["id"], csv_bytes(people(50)))
    path = tmp_path / "tablet.sqlite3"
    with DeviceStore(path) as store:
        store.set_pairing(live_server, booth.tablet.id, booth.event["id"], booth.tablet.token)
        with SyncClient(store, timeout=10.0) as sync:
            sync.sync_once()
        assert store.attendee_count() == 50
        # From here on the tablet has no server to reach.
        store.set_pairing("http://127.0.0.1:9", booth.tablet.id, booth.event["id"], "lbd_gone")
    path.with_name(path.stem + ".settings.json").write_text(
        json.dumps({"staff_id": booth.staff.id, "staff_name": "Sam", "kiosk": False})
    )

    outcome = run_scenario("attendee_badge", path, tmp_path, badge="REG-1017")

    assert outcome["form"] == {
        "first_name": "Ann1017",
        "last_name": "Müller1017",
        "email": "ann1017@example-corp.com",
        "company": "Corp 1017",
        "job_title": "CTO",
        "badge_payload": "REG-1017",
    }
    assert "attendee list" in outcome["scan_text"]
    assert "badge-attendee.png" in outcome["shots"]
    with DeviceStore(path) as reopened:
        lead = reopened.get_lead(outcome["lead"])
    assert lead is not None
    assert (lead["first_name"], lead["source"], lead["badge_payload"]) == (
        "Ann1017",
        "badge",
        "REG-1017",
    )
    assert lead["phone"] == "+49301235017"  # normalised on save, as a typed number is
