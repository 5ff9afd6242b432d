"""Alert latency: from a tablet's push being answered to the rep's webhook receiving the alert.

    python bench/alert_latency.py --rate 20 --seconds 30

Starts the real server (its own process, with the in-process alert dispatcher; or, with
--mode rq, with two `leadbridge worker` processes over Redis) and a webhook receiver on
loopback, pushes single-lead batches through the sync endpoint at the given rate as tablets
do, and times each alert's arrival. Last line:
alert_latency rate=N seconds=N delivered=N/N p50_ms=N p99_ms=N mode=inprocess|rq
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fakedata import visitor  # noqa: E402
from bench.percentiles import percentile  # noqa: E402
from bench.serving import fresh_database, lift_rep_capacities, running_server  # noqa: E402
from sync.client import SyncClient, pair  # noqa: E402
from sync.store import DeviceStore  # noqa: E402
from tests.peers import WebhookReceiver  # noqa: E402

DEMO_PASSWORD = "leadbridge-demo"


def _point_alerts_at(server_url: str, webhook_url: str) -> None:
    """Send the demo event's alerts to webhook_url only, and let its reps take any number."""
    session = requests.Session()
    login = session.post(
        f"{server_url}/api/v1/auth/login",
        json={"email": "admin@example.com", "password": DEMO_PASSWORD},
        timeout=10,
    )
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    lift_rep_capacities(session, server_url, headers, timeout=10)
    events = session.get(f"{server_url}/api/v1/events", headers=headers, timeout=10).json()
    # Webhook only: no SMTP server runs here, and email would only add failed retries.
    alerts = {"email": False, "webhook_url": webhook_url, "webhook_secret": "bench"}
    session.patch(
        f"{server_url}/api/v1/events/{events[0]['id']}",
        json={"alerts": alerts},
        headers=headers,
        timeout=10,
    ).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="leads a second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL; SQLite if absent")
    parser.add_argument("--mode", choices=("inprocess", "rq"), default="inprocess")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="for --mode rq")
    parser.add_argument("--workers", type=int, default=2, help="worker processes in rq mode")
    args = parser.parse_args()
    rq_env = {}
    if args.mode == "rq":
        queue = f"bench-alerts-{random.randrange(16**8):08x}"  # nobody else's jobs
        rq_env = {"LEADBRIDGE_REDIS_URL": args.redis_url, "LEADBRIDGE_ALERT_QUEUE": queue}
    rng = random.Random(11)
    answered: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, WebhookReceiver() as receiver:
        work = Path(tmp)
        with (
            fresh_database(work, args.database_url, "server") as database,
            running_server(
                work, database, extra_env=rq_env, workers=args.workers if rq_env else 0
            ) as server,
        ):
            _point_alerts_at(server.url, receiver.url("/alerts"))
            tablet = DeviceStore(work / "tablet.sqlite3")
            pair(tablet, server.url, server.pairing_code, "Bench tablet")
            staff_id = next(m["id"] for m in tablet.members() if m["role"] == "staff")
            arrivals: dict[str, float] = {}

            def collect() -> None:
                seen = 0
                while not done.is_set() or seen < len(answered):
                    with receiver.changed:
                        receiver.changed.wait(0.05)
                        fresh = receiver.requests[seen:]
                    for request in fresh:
                        lead_id = (request.json or {}).get("lead", {}).get("id")
                        arrivals.setdefault(lead_id, time.perf_counter())
                    seen += len(fresh)
                    if done.is_set() and time.perf_counter() > deadline:
                        return

            done = threading.Event()
            deadline = float("inf")
            collector = threading.Thread(target=collect, daemon=True)
            collector.start()
            count = int(args.rate * args.seconds)
            started = time.perf_counter()
            with SyncClient(tablet) as client:
                for index in range(count):
                    time.sleep(max(0.0, started + index / args.rate - time.perf_counter()))
                    lead_id = tablet.save_lead(visitor(rng, index, staff_id))
                    client.push()
                    answered[lead_id] = time.perf_counter()
            deadline = time.perf_counter() + 15  # every alert gets 15 s to arrive
            done.set()
            collector.join(timeout=20)
            tablet.close()
    latencies = sorted(
        (arrivals[lead_id] - at) * 1000 for lead_id, at in answered.items() if lead_id in arrivals
    )
    delivered = len(latencies)
    p50 = statistics.median(latencies) if latencies else float("nan")
    p99 = percentile(latencies, 0.99)
    print(
        f"alert_latency rate={args.rate:g} seconds={args.seconds:g} delivered={delivered}/{count} "
        f"p50_ms={p50:.0f} p99_ms={p99:.0f} mode={args.mode}"
    )


if __name__ == "__main__":
    main()
