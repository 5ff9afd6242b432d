"""The tablet app in a real window under Xvfb, driven like a person would, one process each.

Each scenario (tests/mobile/scenarios.py) runs in its own `xvfb-run` subprocess,
because Kivy keeps global state per process. Screenshots of every screen land in
artifacts/screenshots/. Skipped when Xvfb is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sync.store import DeviceStore
from tests.helpers import ApiHelper, Booth, event_body
from tests.mobile.data import EXPECTED_BADGES, FIRST_LEAD, OFFLINE_LEADS

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
SCENARIO_TIMEOUT = 100  # seconds; a scenario bounds each of its own waits to ~20 s

pytestmark = pytest.mark.skipif(
    shutil.which("xvfb-run") is None or shutil.which("Xvfb") is None,
    reason="xvfb-run/Xvfb not installed (apt-get install xvfb xauth libgl1-mesa-dri)",
)


def run_scenario(
    name: str, store: Path, tmp_path: Path, *, auth: str = "", **options: str
) -> dict[str, Any]:
    """Run one scenario in its own app process on a virtual screen; return its result."""
    result = tmp_path / f"{name}.json"
    command = [
        "xvfb-run",
        "-a",
        "-s",
        "-screen 0 1280x800x24",
        sys.executable,
        "-m",
        "tests.mobile.driver",
        name,
        "--store",
        str(store),
        "--shots",
        str(SHOTS),
        "--result",
        str(result),
    ]
    for key, value in options.items():
        command += [f"--{key}", value]
    env = {**os.environ, "LEADBRIDGE_TEST_AUTH": auth, "KIVY_HOME": str(tmp_path / "kivy")}
    try:
        completed = subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=SCENARIO_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        log = error.stderr.decode(errors="replace") if error.stderr else ""
        pytest.fail(f"{name} hung for {SCENARIO_TIMEOUT} s:\n{log[-6000:]}")
    if not result.exists():
        pytest.fail(f"{name} left no result (exit {completed.returncode}):\n{completed.stderr}")
    outcome = json.loads(result.read_text(encoding="utf-8"))
    if outcome["error"]:
        pytest.fail(f"{name} failed:\n{outcome['error']}\n--- app log ---\n{completed.stderr}")
    outcome["stderr"] = completed.stderr
    return outcome


def pairing_code(api: ApiHelper, booth: Booth) -> str:
    """Issue a pairing code for the booth's event as its manager."""
    response = api.client.post(
        "/api/v1/devices/pairing-codes",
        json={"event_id": booth.event["id"]},
        headers=booth.marketer.headers,
    )
    assert response.status_code == 201, response.json
    return response.json["code"]


def server_leads(api: ApiHelper, booth: Booth) -> dict[str, dict[str, Any]]:
    """Return the server's leads by id, as the event manager sees them."""
    response = api.client.get("/api/v1/leads?page_size=200", headers=booth.marketer.headers)
    assert response.status_code == 200, response.json
    return {lead["id"]: lead for lead in response.json["items"]}


def paired_store(path: Path, booth: Booth, event: dict[str, Any] | None = None) -> Path:
    """Make a store paired with a server that is not there, with staff chosen."""
    event = dict(event or booth.event)
    event["members"] = [
        {"user_id": booth.staff.id, "user": {"id": booth.staff.id, "name": "Sam", "role": "staff"}}
    ]
    with DeviceStore(path) as store:
        store.set_pairing("http://127.0.0.1:9", 99, event["id"], "lbd_offline", event)
    path.with_name(path.stem + ".settings.json").write_text(
        json.dumps({"staff_id": booth.staff.id, "staff_name": "Sam", "kiosk": False})
    )
    return path


def test_a_desktop_start_prints_no_tracebacks(tmp_path: Path) -> None:
    """Kivy's missing mtdev, X11 clipboard tools and config file are not reported as errors."""
    outcome = run_scenario("first_start", tmp_path / "tablet.sqlite3", tmp_path)
    log = outcome["stderr"]
    for alarm in ("Traceback", "ERROR", "CRITICAL", "MTDev", "Cutbuffer", "Config"):
        assert alarm not in log, log
    assert "pairing-first-start.png" in outcome["shots"]


def test_pair_capture_sync_offline_and_back(
    api: ApiHelper, booth: Booth, live_server: str, tmp_path: Path
) -> None:
    """Pair, capture by typing, see it listed and uploaded; three more survive an outage."""
    staff_name = api.client.get(
        f"/api/v1/users/{booth.staff.id}", headers=booth.admin.headers
    ).json["name"]
    outcome = run_scenario(
        "full",
        tmp_path / "tablet.sqlite3",
        tmp_path,
        auth=booth.marketer.headers["Authorization"],
        server=live_server,
        code=pairing_code(api, booth),
        staff=staff_name,
    )
    leads = server_leads(api, booth)
    assert set(leads) == set(outcome["lead_ids"]) and len(leads) == 4
    first = leads[outcome["first_lead"]]
    assert {key: first[key] for key in ("first_name", "last_name", "company", "job_title")} == {
        "first_name": FIRST_LEAD["first_name"],
        "last_name": FIRST_LEAD["last_name"],
        "company": FIRST_LEAD["company"],
        "job_title": FIRST_LEAD["job_title"],
    }
    assert first["email"] == "ann.example@example.com"
    assert first["phone"] == "+49301234567"
    assert first["country"] == "DE"
    assert first["source"] == "manual"
    assert first["answers"] == {
        "budget": True,
        "timeframe": "Now",
        "topics": ["A", "C"],
        "seats": 12,
        "pain": FIRST_LEAD["answers.pain"],
    }
    assert first["products"] == ["scanner"]
    assert first["rating"] == "hot"
    assert first["notes"] == FIRST_LEAD["notes"]
    assert first["follow_up"] is True
    assert first["consent"]["given"] is True
    assert first["consent"]["version"] == booth.event["consent_version"]
    assert first["captured_by_id"] == booth.staff.id
    offline = sorted((lead["first_name"], lead["last_name"]) for lead in leads.values())
    assert offline == sorted([("Ann", "Example"), *OFFLINE_LEADS])
    assert {"01-pairing.png", "03-home.png", "06-leads.png"} <= set(outcome["shots"])


def test_a_refused_lead_is_corrected_from_the_home_screen(
    api: ApiHelper, booth: Booth, live_server: str, tmp_path: Path
) -> None:
    """Offline, the event gains a required question; the refused lead is fixed and arrives."""
    staff_name = api.client.get(
        f"/api/v1/users/{booth.staff.id}", headers=booth.admin.headers
    ).json["name"]
    outcome = run_scenario(
        "refused",
        tmp_path / "tablet.sqlite3",
        tmp_path,
        auth=booth.marketer.headers["Authorization"],
        server=live_server,
        code=pairing_code(api, booth),
        staff=staff_name,
    )
    assert outcome["tablet_text"] == f"Paired as Booth tablet 2 for {booth.event['name']}"
    connection, waiting, last_sync, error = outcome["offline"]
    assert connection == "Offline: this tablet cannot reach the server"
    assert waiting == "1 lead waits on this tablet and uploads when the network is back"
    assert last_sync.startswith("Last reached the server ")
    assert error == ""
    title, reason, heading = outcome["refused_row"]
    assert title == "Rita"
    assert reason == "Decision maker: This question must be answered."
    assert heading == "1 lead needs correction"
    lead = server_leads(api, booth)[outcome["lead_id"]]
    assert lead["answers"] == {"budget": True, "decision": True}
    assert lead["first_name"] == "Rita" and lead["email"] == "rita@example.com"
    assert {"home-refused.png", "lead-refused.png", "home-corrected.png"} <= set(outcome["shots"])


def test_badges_scanned_from_camera_frames(booth: Booth, tmp_path: Path) -> None:
    """vCard 3.0 and 4.0, MECARD and a plain badge id fill the form from QR frames."""
    store = paired_store(tmp_path / "tablet.sqlite3", booth)
    outcome = run_scenario("badges", store, tmp_path)
    assert {f"badge-{name}.png" for name in EXPECTED_BADGES} <= set(outcome["shots"])
    with DeviceStore(store) as reopened:
        lead = reopened.get_lead(outcome["badge_lead"])
    assert lead is not None and lead["source"] == "badge"


def test_checks_kiosk_and_draft(booth: Booth, tmp_path: Path) -> None:
    """Inline errors, duplicates, editing, kiosk mode; the draft survives a restart."""
    event = {**booth.event, **{"questions": event_body()["questions"]}}
    store = paired_store(tmp_path / "tablet.sqlite3", booth, event)
    run_scenario("checks", store, tmp_path)
    run_scenario("draft_restored", store, tmp_path)
    with DeviceStore(store) as reopened:
        names = {lead["first_name"] for lead in reopened.search_leads()}
        assert names == {"Eve", "Vic"}
        assert reopened.outbox_size() >= 2  # the server was never there


def test_consent_in_the_visitors_language(
    api: ApiHelper, booth: Booth, live_server: str, tmp_path: Path
) -> None:
    """German wording, marketing emails only: the server's consent record says so."""
    texts = {"de": "Sie dürfen mich kontaktieren.", "en": "You may contact me."}
    versions = {}
    for language, text in texts.items():
        response = api.client.post(
            f"/api/v1/privacy/events/{booth.event['id']}/consent-texts",
            json={"language": language, "text": text},
            headers=booth.marketer.headers,
        )
        assert response.status_code == 201, response.json
        versions[language] = response.json["version"]
    staff_name = api.client.get(
        f"/api/v1/users/{booth.staff.id}", headers=booth.admin.headers
    ).json["name"]
    outcome = run_scenario(
        "consent",
        tmp_path / "tablet.sqlite3",
        tmp_path,
        auth=booth.marketer.headers["Authorization"],
        server=live_server,
        code=pairing_code(api, booth),
        staff=staff_name,
    )
    assert outcome["tablet_consent"]["language"] == "de"
    assert outcome["tablet_consent"]["purposes"] == ["marketing_email"]
    record = api.client.get(
        f"/api/v1/privacy/leads/{outcome['lead_id']}/consent", headers=booth.marketer.headers
    )
    assert record.status_code == 200, record.json
    assert record.json["given"] is True
    assert record.json["language"] == "de"
    assert record.json["version"] == versions["de"] != versions["en"]
    assert record.json["purposes"] == ["marketing_email"]
    assert record.json["text"] == texts["de"]
    assert "capture-consent-de.png" in outcome["shots"]
