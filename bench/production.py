"""Run the production set-up on loopback: gunicorn web workers and `leadbridge worker` processes.

Used by bench/load.py and tests/test_faults.py. The web tier is started exactly as an operator
would start it (`leadbridge serve --production`, which becomes the gunicorn master), and each
alert worker is its own `leadbridge worker` process; both against PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import requests

from bench.serving import LEADBRIDGE, free_port, migrate_and_seed
from tests.peers import LOOPBACK_NETWORKS

ROOT = Path(__file__).resolve().parent.parent


def child_pids(pid: int) -> list[int]:
    """Return the ids of pid's child processes (Linux /proc)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if not children.exists():
        return []
    return [int(p) for p in children.read_text().split()]


@dataclass
class Stack:
    """A running production set-up on loopback."""

    url: str
    env: dict[str, str]
    pairing_code: str
    web: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    log_dir: Path = Path(".")
    logs: list[BinaryIO] = field(default_factory=list)

    def start_worker(self) -> subprocess.Popen[bytes]:
        """Start one more `leadbridge worker` process."""
        index = len(self.workers)
        log = open(self.log_dir / f"worker{index}.log", "ab")  # noqa: SIM115 - closed at the end
        self.logs.append(log)
        process = subprocess.Popen([*LEADBRIDGE, "worker"], env=self.env, stdout=log, stderr=log)
        self.workers.append(process)
        return process

    def web_worker_pids(self) -> list[int]:
        """Return the pids of the gunicorn worker processes."""
        return child_pids(self.web.pid)

    def kill_web_worker(self) -> int:
        """SIGKILL one gunicorn worker (its master starts a new one); return its pid."""
        pids = self.web_worker_pids()
        if not pids:
            raise RuntimeError("gunicorn has no workers")
        os.kill(pids[0], signal.SIGKILL)
        return pids[0]

    def kill_alert_worker(self, restart_after_s: float = 2.0) -> int:
        """SIGKILL the first live alert worker, then start a new one as a supervisor would."""
        live = [p for p in self.workers if p.poll() is None]
        if not live:
            raise RuntimeError("no alert worker is running")
        victim = live[0]
        victim.kill()
        victim.wait(timeout=10)
        time.sleep(restart_after_s)
        self.start_worker()
        return victim.pid

    def ready(self) -> bool:
        """Tell whether /readyz answers 200."""
        try:
            return requests.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False


def _stop(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def production_stack(
    workdir: Path,
    database_url: str,
    redis_url: str,
    *,
    web_workers: int = 3,
    threads: int = 2,
    alert_workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """Migrate and seed database_url, start gunicorn and alert workers, stop them afterwards.

    Two threads per web worker: on a saturated CPU, requests then wait their turn in the
    listen queue instead of all advancing at once under one interpreter lock, which halved
    the push p99 of bench/load.py against eight threads (README, Benchmarks).
    """
    token = os.urandom(4).hex()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LEADBRIDGE_INSTANCE_DIR": str(workdir / "instance"),
        "LEADBRIDGE_DATABASE_URL": database_url,
        "LEADBRIDGE_REDIS_URL": redis_url,
        # A queue of our own on a shared Redis: nobody else's worker takes our jobs.
        "LEADBRIDGE_ALERT_QUEUE": f"bench-{token}",
        "LEADBRIDGE_SECRET_KEY": "bench-secret",
        "LEADBRIDGE_THREADS": str(threads),
        # The benchmarks' webhook receivers listen on loopback (tests/peers.py).
        "LEADBRIDGE_WEBHOOK_ALLOWED_NETWORKS": LOOPBACK_NETWORKS,
        "LEADBRIDGE_LOG_LEVEL": "INFO",
        **(extra_env or {}),
    }
    code = migrate_and_seed(env)
    port = free_port()
    env["LEADBRIDGE_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    web_log = open(workdir / "web.log", "ab")  # noqa: SIM115 - closed with the process
    web = subprocess.Popen(
        [*LEADBRIDGE, "serve", "--production", "--port", str(port), "--workers", str(web_workers)],
        env=env,
        stdout=web_log,
        stderr=web_log,
    )
    stack = Stack(f"http://127.0.0.1:{port}", env, code, web, log_dir=workdir)
    try:
        for _ in range(alert_workers):
            stack.start_worker()
        deadline = time.monotonic() + 60
        while not stack.ready():
            if web.poll() is not None or time.monotonic() > deadline:
                tail = (workdir / "web.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the production server did not become ready:\n{tail}")
            time.sleep(0.2)
        yield stack
    finally:
        for process in stack.workers:
            _stop(process)
        _stop(web)
        web_log.close()
        for log in stack.logs:
            log.close()
