"""Start a real leadbridge server process on loopback for a benchmark, and stop it."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
import sqlalchemy as sa

from tests.peers import LOOPBACK_NETWORKS

LEADBRIDGE = [sys.executable, "-m", "server.cli"]


@dataclass(frozen=True)
class RunningServer:
    """A server process, its URL, database and the demo's pairing code."""

    url: str
    database_url: str
    pairing_code: str
    pid: int = 0  # the serving process, for reading its CPU time

    def cpu_seconds(self) -> float:
        """Return the CPU time (user + system) the serving process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.05)


@contextmanager
def smtp_sink() -> Iterator[int]:
    """Run an SMTP server on loopback that accepts and discards mail; yield its port.

    A process of its own (aiosmtpd's Sink), so that the mail it takes costs neither the
    server nor the benchmark's process CPU. Without one, every alert email is refused,
    and the server's retries of them would be measured as the work of what is benchmarked.
    """
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink"]
        + ["-l", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process, "the SMTP sink")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def fresh_database(workdir: Path, postgres_url: str | None, name: str) -> Iterator[str]:
    """Yield the SQLAlchemy URL of an empty database: a SQLite file, or a new PostgreSQL schema."""
    if not postgres_url:
        yield f"sqlite:///{workdir / name}.sqlite3"
        return
    base = postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"bench_{name}_{secrets.token_hex(3)}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def leadbridge(env: dict[str, str], *args: str) -> str:
    """Run one leadbridge command to completion and return what it printed."""
    done = subprocess.run(
        [*LEADBRIDGE, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"leadbridge {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def migrate_and_seed(env: dict[str, str]) -> str:
    """Migrate the database env names, seed the demo, and return its tablet pairing code."""
    leadbridge(env, "db", "upgrade")
    seeded = leadbridge(env, "seed-demo")
    code = re.search(r"pairing code .*: (\w{5}-\w{5})", seeded)
    if code is None:
        raise RuntimeError("seed-demo printed no pairing code")
    return code.group(1)


def lift_rep_capacities(
    session: requests.Session, url: str, headers: dict[str, str], timeout: float
) -> None:
    """Lift every rep's daily capacity, so every lead a benchmark pushes is routed to someone."""
    for rep in session.get(f"{url}/api/v1/users?role=rep", headers=headers, timeout=timeout).json():
        session.patch(
            f"{url}/api/v1/users/{rep['id']}",
            json={"daily_capacity": None},
            headers=headers,
            timeout=timeout,
        ).raise_for_status()


@contextmanager
def running_server(
    workdir: Path,
    database_url: str,
    threads: int = 4,
    extra_env: dict[str, str] | None = None,
    workers: int = 0,
) -> Iterator[RunningServer]:
    """Migrate and seed database_url, serve it on a free loopback port, and stop it afterwards.

    Alert email goes to an SMTP sink on loopback (smtp_sink), as it would go to a working
    relay, unless extra_env names an SMTP host. With workers, also start that many
    `leadbridge worker` processes (extra_env must set LEADBRIDGE_REDIS_URL).
    """
    extra_env = extra_env or {}
    if "LEADBRIDGE_SMTP_HOST" in extra_env:
        with _serving(workdir, database_url, threads, extra_env, workers) as server:
            yield server
        return
    with smtp_sink() as smtp_port:
        mail = {"LEADBRIDGE_SMTP_HOST": "127.0.0.1", "LEADBRIDGE_SMTP_PORT": str(smtp_port)}
        with _serving(workdir, database_url, threads, {**mail, **extra_env}, workers) as server:
            yield server


@contextmanager
def _serving(
    workdir: Path, database_url: str, threads: int, extra_env: dict[str, str], workers: int
) -> Iterator[RunningServer]:
    env = {
        **os.environ,
        "LEADBRIDGE_INSTANCE_DIR": str(workdir / "instance"),
        "LEADBRIDGE_DATABASE_URL": database_url,
        "LEADBRIDGE_SECRET_KEY": "bench-secret",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        # The benchmarks' webhook receivers listen on loopback (tests/peers.py).
        "LEADBRIDGE_WEBHOOK_ALLOWED_NETWORKS": LOOPBACK_NETWORKS,
        # One simulated tablet here sends what a whole booth would: measure speed, not limits.
        "LEADBRIDGE_RATELIMIT_SYNC": "100000 per minute",
        **extra_env,
    }
    code = migrate_and_seed(env)
    port = free_port()
    # To a file, not a pipe nobody reads: a full pipe would freeze a chatty server.
    log = (workdir / "server.log").open("ab")
    process = subprocess.Popen(
        [*LEADBRIDGE, "serve", "--port", str(port), "--threads", str(threads)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    helpers = [
        subprocess.Popen([*LEADBRIDGE, "worker"], env=env, stdout=log, stderr=log)
        for _ in range(workers)
    ]
    url = f"http://127.0.0.1:{port}"
    try:
        # Generous: the server and its workers import at once, on a machine maybe busy.
        deadline = time.monotonic() + 90
        while True:
            try:
                requests.get(f"{url}/api/openapi.json", timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        yield RunningServer(url, database_url, code, process.pid)
    finally:
        for child in (process, *helpers):
            child.terminate()
        for child in (process, *helpers):
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                # A worker finishing its job (and its relay's round) may outlast the wait.
                child.kill()
                child.wait(timeout=10)
        log.close()
