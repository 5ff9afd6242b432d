"""`make run` and `make app` take the port from PORT (default 5000), read by make itself.

`make -n` prints the commands without running them (nothing is installed or served).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _commands(*arguments: str, **env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PORT", "LEADBRIDGE_PUBLIC_URL")}
    done = subprocess.run(
        ["make", "-n", "-C", str(ROOT), *arguments],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [line.strip() for line in done.stdout.splitlines()]


def _line(commands: list[str], fragment: str) -> str:
    found = [line for line in commands if fragment in line]
    assert len(found) == 1, commands
    return found[0]


def test_make_run_serves_on_port_5000_by_default():
    commands = _commands("run")
    serve = _line(commands, "leadbridge serve")
    assert serve.endswith("serve --port 5000")
    assert "LEADBRIDGE_PUBLIC_URL='http://127.0.0.1:5000'" in serve


def test_make_run_and_app_take_the_port_from_port():
    serve = _line(_commands("run", "PORT=5123"), "leadbridge serve")
    assert serve.endswith("serve --port 5123")
    # Alert links and the pairing QR code name the port the server is really on.
    assert "LEADBRIDGE_PUBLIC_URL='http://127.0.0.1:5123'" in serve
    seed = _line(_commands("run", "PORT=5123"), "seed-demo")
    assert "LEADBRIDGE_PUBLIC_URL='http://127.0.0.1:5123'" in seed
    app = _line(_commands("app", "PORT=5123"), "-m mobile")
    assert app.endswith("--server http://127.0.0.1:5123")
    assert _line(_commands("app"), "-m mobile").endswith("--server http://127.0.0.1:5000")


def test_a_public_url_given_in_the_environment_is_kept():
    serve = _line(
        _commands("run", "PORT=5123", LEADBRIDGE_PUBLIC_URL="https://leads.example.com"),
        "leadbridge serve",
    )
    assert "LEADBRIDGE_PUBLIC_URL='https://leads.example.com'" in serve
    assert serve.endswith("serve --port 5123")
