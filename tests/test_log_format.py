"""The server's log lines: plain text on a developer's terminal, JSON anywhere else.

`leadbridge serve` runs as a real process, its log stream a pseudo-terminal (as under
`make run` in a shell) or a file (as under a service manager); LEADBRIDGE_LOG_FORMAT
overrides the choice, and gunicorn (production) defaults it to JSON.
"""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from server.ops.logs import chosen_format, make_handler
from tests.peers import free_port

LEADBRIDGE = [sys.executable, "-m", "server.cli"]
ROOT = Path(__file__).resolve().parents[1]
# What the text format writes for the access log's line of one request.
TEXT_ACCESS = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO leadbridge\.access \[\w+\] GET /healthz 200"
)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Return the environment of a migrated instance in its own folder."""
    folder = tmp_path_factory.mktemp("instance")
    env = {**os.environ, "LEADBRIDGE_INSTANCE_DIR": str(folder), "PYTHONPATH": str(ROOT)}
    for name in ("LEADBRIDGE_LOG_FORMAT", "LEADBRIDGE_DATABASE_URL", "LEADBRIDGE_REDIS_URL"):
        env.pop(name, None)
    done = subprocess.run(
        [*LEADBRIDGE, "db", "upgrade"], env=env, capture_output=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return env


@contextmanager
def serving(env: dict[str, str], stderr: int) -> Iterator[str]:
    """Run `leadbridge serve` writing its logs to the file descriptor stderr; yield its URL."""
    port = free_port()
    process = subprocess.Popen(
        [*LEADBRIDGE, "serve", "--port", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert process.poll() is None, "the server stopped"
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def _access_line_on_a_terminal(env: dict[str, str]) -> str:
    """Serve with stderr on a pseudo-terminal; return the line logged for GET /healthz."""
    leader, follower = pty.openpty()
    seen = b""
    try:
        with serving(env, follower) as url:
            assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
            deadline = time.monotonic() + 15
            while b"/healthz 200" not in seen and b'"status": 200' not in seen:
                assert time.monotonic() < deadline, seen.decode(errors="replace")[-2000:]
                ready, _, _ = select.select([leader], [], [], 0.5)
                if ready:
                    seen += os.read(leader, 65536)
    finally:
        os.close(follower)
        os.close(leader)
    lines = seen.decode(errors="replace").replace("\r\n", "\n").splitlines()
    return next(line for line in lines if "healthz" in line)


def test_the_development_server_logs_text_lines_on_a_terminal(instance: dict[str, str]):
    line = _access_line_on_a_terminal(instance)
    assert TEXT_ACCESS.match(line), line
    assert not line.startswith("{")


def test_a_configured_json_format_holds_on_a_terminal(instance: dict[str, str]):
    line = _access_line_on_a_terminal({**instance, "LEADBRIDGE_LOG_FORMAT": "json"})
    entry = json.loads(line)
    assert entry["route"] == "/healthz" and entry["status"] == 200


def test_the_server_logs_json_when_its_logs_go_to_a_file(instance: dict[str, str], tmp_path: Path):
    log = tmp_path / "server.log"
    with log.open("wb") as stream, serving(instance, stream.fileno()) as url:
        assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
        deadline = time.monotonic() + 15
        while "/healthz" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.1)
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(entry.get("route") == "/healthz" and entry["status"] == 200 for entry in entries)
    assert not [line for line in log.read_text().splitlines() if TEXT_ACCESS.match(line)]


def test_gunicorn_defaults_the_format_to_json_and_keeps_a_chosen_one(instance: dict[str, str]):
    show = "import os, server.ops.gunicorn_conf; print(os.environ['LEADBRIDGE_LOG_FORMAT'])"
    for given, expected in ((None, "json"), ("text", "text")):
        env = dict(instance)
        if given:
            env["LEADBRIDGE_LOG_FORMAT"] = given
        done = subprocess.run(
            [sys.executable, "-c", show], env=env, capture_output=True, timeout=60, check=True
        )
        assert done.stdout.decode().strip() == expected


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("setting", "terminal", "expected"),
    [
        ("auto", True, "text"),
        ("auto", False, "json"),
        ("json", True, "json"),
        ("text", False, "text"),
    ],
)
def test_the_format_follows_the_setting_and_the_stream(setting: str, terminal: bool, expected: str):
    stream = _Terminal() if terminal else io.StringIO()
    assert chosen_format(setting, stream) == expected


def test_an_unknown_format_is_refused_with_the_setting_named():
    with pytest.raises(ValueError, match="LEADBRIDGE_LOG_FORMAT"):
        make_handler("yaml", io.StringIO())
