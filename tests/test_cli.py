"""The leadbridge command: migrate, seed the demo, create users and events, pairing codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from server.cli import main
from tests.helpers import bearer

DEMO_PASSWORD = "leadbridge-demo"


@pytest.fixture
def fresh_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the CLI at an empty instance folder with its own SQLite database."""
    monkeypatch.setenv("LEADBRIDGE_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("LEADBRIDGE_DATABASE_URL", raising=False)
    return tmp_path


def _run(*args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_migrate_seed_and_log_in_as_a_new_user_would(fresh_instance: Path):
    _run("db", "upgrade")
    first = _run("seed-demo")
    assert "Created the demo event" in first and "admin@example.com" in first
    code = re.search(r"pairing code .*: (\w{5}-\w{5})", first).group(1)
    second = _run("seed-demo")
    assert "Found the demo event" in second
    assert (fresh_instance / "leadbridge.sqlite3").exists()

    from server import create_app

    client = create_app().test_client()
    login = client.post(
        "/api/v1/auth/login", json={"email": "marketer@example.com", "password": DEMO_PASSWORD}
    )
    assert login.status_code == 201
    events = client.get("/api/v1/events", headers=bearer(login.json["token"])).json
    assert [event["name"] for event in events] == ["Demo Expo"]
    assert len(events[0]["questions"]) == 5
    paired = client.post("/api/v1/devices/pair", json={"code": code, "name": "Demo tablet"})
    assert paired.status_code == 201


def test_create_user_event_and_pairing_code(fresh_instance: Path):
    _run("db", "upgrade")
    out = _run(
        "create-user",
        "--email",
        "Boss@Example.com",
        "--name",
        "Boss",
        "--role",
        "admin",
        input="a very good password\na very good password\n",
    )
    assert "Created admin" in out
    out = _run(
        "create-event",
        "--name",
        "Fair",
        "--starts-on",
        "2026-05-01",
        "--ends-on",
        "2026-05-03",
        "--timezone",
        "Europe/Paris",
        "--country",
        "FR",
    )
    event_id = re.search(r"Created event (\d+)", out).group(1)
    out = _run("pair-code", "--event-id", event_id, "--minutes", "10")
    assert re.search(r"\w{5}-\w{5}", out)


def test_cli_reports_bad_input_without_a_traceback(fresh_instance: Path):
    _run("db", "upgrade")
    result = CliRunner().invoke(
        main,
        [
            "create-event",
            "--name",
            "X",
            "--starts-on",
            "2026-05-03",
            "--ends-on",
            "2026-05-01",
            "--timezone",
            "Nowhere/Land",
        ],
    )
    assert result.exit_code == 1
    assert "timezone: Use an IANA time zone name" in result.output
    assert "Traceback" not in result.output
    reversed_dates = CliRunner().invoke(
        main,
        [
            "create-event",
            "--name",
            "X",
            "--starts-on",
            "2026-05-03",
            "--ends-on",
            "2026-05-01",
            "--timezone",
            "Europe/Paris",
        ],
    )
    assert reversed_dates.exit_code == 1
    assert "ends_on: The event cannot end before it starts." in reversed_dates.output
    missing = CliRunner().invoke(main, ["pair-code", "--event-id", "42"])
    assert missing.exit_code == 1 and "No event 42" in missing.output


def test_app_fixture_is_unaffected(app: Flask):
    assert app.config["SECRET_KEY"] == "test-secret-key"
