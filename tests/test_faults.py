"""Faults under load: PostgreSQL restarts, a gunicorn worker and the alert worker are killed.

A shorter run of bench/load.py's production set-up (gunicorn, PostgreSQL, Redis, a
`leadbridge worker`), during which each fault happens once. Afterwards every lead the
tablets captured is on the server exactly once, and every lead's alert was delivered.
PostgreSQL here is a private cluster (bench/pgcluster.py), so restarting it disturbs no one.
"""

from __future__ import annotations

import os
import time

import pytest
import requests

from bench.load import run
from bench.pgcluster import Cluster, postgres_bin, private_postgres
from bench.production import Stack

REDIS_URL = os.environ.get("LEADBRIDGE_TEST_REDIS_URL")
POSTGRES_URL = os.environ.get("LEADBRIDGE_TEST_DATABASE_URL")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not (REDIS_URL and POSTGRES_URL),
        reason="needs PostgreSQL and Redis (LEADBRIDGE_TEST_DATABASE_URL, _REDIS_URL)",
    ),
    pytest.mark.skipif(postgres_bin() is None, reason="needs PostgreSQL's initdb and pg_ctl"),
]


def _readyz(stack: Stack) -> int:
    try:
        return requests.get(f"{stack.url}/readyz", timeout=5).status_code
    except requests.RequestException:
        return 0


def _inject(cluster: Cluster, log: list[str]):
    """Return the fault schedule: one of each fault, spread over the run."""

    def faults(stack: Stack, stop_at: float) -> list[str]:
        start = time.monotonic()
        total = stop_at - start

        def at(fraction: float) -> None:
            time.sleep(max(0.0, start + total * fraction - time.monotonic()))

        at(0.2)
        before = cluster.postmaster_pid()
        cluster.stop_fast()
        down = _readyz(stack)
        time.sleep(2)  # the hall's tablets keep capturing and pushing meanwhile
        cluster.start()
        log.append(f"postgres restarted {before}->{cluster.postmaster_pid()} readyz_down={down}")
        at(0.45)
        pids = stack.web_worker_pids()
        killed = stack.kill_web_worker()
        log.append(f"gunicorn worker {killed} killed of {pids}")
        at(0.7)
        victim = stack.kill_alert_worker(restart_after_s=2)
        log.append(f"alert worker {victim} killed and replaced")
        deadline = time.monotonic() + 30
        while _readyz(stack) != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        log.append(f"readyz_after={_readyz(stack)} web_workers={stack.web_worker_pids()}")
        return list(log)

    return faults


def test_every_lead_arrives_once_and_every_alert_goes_out_despite_faults() -> None:
    log: list[str] = []
    assert REDIS_URL is not None
    with private_postgres() as cluster:
        result = run(
            40,
            36,
            cluster.url,
            REDIS_URL,
            web_workers=2,
            faults=_inject(cluster, log),
            # A killed worker's claimed jobs are taken over after this lease.
            extra_env={"LEADBRIDGE_ALERT_LEASE_SECONDS": "10"},
            own_database=True,
        )
    print("\n".join(log))
    print(result.line())
    assert len(result.faults) == 4, result.faults
    postgres, web, alerts, after = result.faults
    assert "readyz_down=503" in postgres or "readyz_down=0" in postgres
    old, new = postgres.split()[2].split("->")
    assert old != new, "PostgreSQL did not restart"
    killed = web.split()[2]
    assert killed not in after, "the killed gunicorn worker is still listed"
    assert "readyz_after=200" in after
    assert len(result.captured) >= 2 * 40, "the tablets barely captured anything"
    assert result.leads_lost == 0
    assert result.leads_extra == 0
    assert result.alerts_missing == 0
