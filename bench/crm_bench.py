"""CRM delivery: leads pushed through sync reach a loopback HubSpot despite faults, outcomes return.

    python bench/crm_bench.py --leads 2000

Starts the real server (its own process, with `leadbridge worker` processes over Redis and
RQ, or with --mode inprocess its own dispatcher) and a loopback HubSpot (tests/crm_peers.py)
that answers 10% of calls with a 500 or a 429 (Retry-After: 1) and lets 2% time out after
the write. A paired tablet pushes leads through the sync endpoint at --rate; the time from
each push being answered to its contact existing in HubSpot is measured. First a baseline of
--baseline-leads without faults, then the run with faults. Then reps "work" leads in
HubSpot: lead statuses and deals change, half found by the incremental poll (every
--poll-seconds), half announced by a signed webhook; the time until leadbridge shows each
outcome is measured. Last line:
crm_bench leads=N delivered=N duplicates=N lost=N p50_ms=N p99_ms=N outcomes_back=N/N ...
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fakedata import visitor  # noqa: E402
from bench.percentiles import percentile  # noqa: E402
from bench.serving import fresh_database, lift_rep_capacities, running_server  # noqa: E402
from sync.client import SyncClient, pair  # noqa: E402
from sync.store import DeviceStore  # noqa: E402
from tests.crm_peers import FakeHubSpot  # noqa: E402

DEMO_PASSWORD = "leadbridge-demo"
TOKEN = "pat-bench-token"
WEBHOOK_SECRET = "bench-client-secret"
FAULTS = {"500": 0.05, "429": 0.05, "timeout": 0.02}


class Server:
    """The running server's API, logged in as the demo admin."""

    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()
        login = self.http.post(
            f"{url}/api/v1/auth/login",
            json={"email": "admin@example.com", "password": DEMO_PASSWORD},
            timeout=10,
        )
        self.http.headers["Authorization"] = f"Bearer {login.json()['token']}"
        self.event_id = self.http.get(f"{url}/api/v1/events", timeout=10).json()[0]["id"]

    def prepare(self, crm: FakeHubSpot) -> dict:
        """No alert email (no SMTP here), every rep an owner in HubSpot, the event connected."""
        lift_rep_capacities(self.http, self.url, {}, timeout=10)
        self.http.patch(
            f"{self.url}/api/v1/events/{self.event_id}",
            json={"alerts": {"email": False}},
            timeout=10,
        ).raise_for_status()
        for user in self.http.get(f"{self.url}/api/v1/users", timeout=10).json():
            crm.add_owner(user["email"])
        body = {
            "kind": "hubspot",
            "base_url": crm.url,
            "token": TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
        }
        answer = self.http.put(
            f"{self.url}/api/v1/events/{self.event_id}/crm", json=body, timeout=10
        )
        answer.raise_for_status()
        return answer.json()

    def counts(self, statuses: set[str]) -> dict[str, int]:
        """Return how many of the event's leads are in each status (one small query each)."""
        found = {}
        for status in statuses:
            answer = self.http.get(
                f"{self.url}/api/v1/leads",
                params={"event_id": self.event_id, "status": status, "page_size": 1},
                timeout=30,
            ).json()
            found[status] = answer["total"]
        return found


def push_leads(
    tablet: DeviceStore,
    client: SyncClient,
    rng: random.Random,
    first: int,
    count: int,
    rate: float,
    staff_id: int,
) -> dict[str, tuple[str, float]]:
    """Capture and push count leads at rate; return lead id -> (email, time the push answered)."""
    pushed: dict[str, tuple[str, float]] = {}
    started = time.perf_counter()
    for index in range(first, first + count):
        time.sleep(max(0.0, started + (index - first) / rate - time.perf_counter()))
        fields = visitor(rng, index, staff_id)
        lead_id = tablet.save_lead(fields)
        client.push()
        pushed[lead_id] = (fields["email"].lower(), time.perf_counter())
    return pushed


def wait_delivered(crm: FakeHubSpot, pushed: dict[str, tuple[str, float]], seconds: float) -> None:
    """Wait (bounded) until every pushed lead's contact exists in the CRM."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with crm.lock:
            if all(email in crm.created_at for email, _ in pushed.values()):
                return
        time.sleep(0.1)


def latencies_ms(crm: FakeHubSpot, pushed: dict[str, tuple[str, float]]) -> list[float]:
    with crm.lock:
        return sorted(
            max(0.0, crm.created_at[email] - at) * 1000
            for email, at in pushed.values()
            if email in crm.created_at
        )


def signed_webhook(server_url: str, path: str, events: list[dict]) -> None:
    """Post HubSpot's v3-signed change notification to the server."""
    url = f"{server_url}{path}"
    body = json.dumps(events)
    stamp = str(int(time.time() * 1000))
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"POST{url}{body}{stamp}".encode(), hashlib.sha256)
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": base64.b64encode(digest.digest()).decode(),
        "X-HubSpot-Request-Timestamp": stamp,
    }
    requests.post(url, data=body, headers=headers, timeout=10).raise_for_status()


def work_in_crm(crm: FakeHubSpot, contacts: list[str], rng: random.Random) -> dict[str, str]:
    """Play reps moving contacts on in HubSpot; return contact id -> the leadbridge status due."""
    due = {}
    for contact_id in contacts:
        choice = rng.random()
        if choice < 0.5:
            crm.set_lead_status(contact_id, "CONNECTED")
            due[contact_id] = "contacted"
        elif choice < 0.8:
            crm.add_deal(contact_id, "closedwon", amount=str(rng.randint(1, 90) * 100))
            due[contact_id] = "won"
        else:
            crm.add_deal(contact_id, "closedlost", reason="Chose a competitor")
            due[contact_id] = "lost"
    return due


def wait_outcomes(
    server: Server, due: dict[str, str], before: dict[str, int], seconds: float, started: float
) -> tuple[int, float]:
    """Wait (bounded) until leadbridge counts the due outcomes; return how many, and when (s).

    The leads chosen were all still open (assigned), so each due outcome adds one to its
    status's count.
    """
    wanted = {status: sum(1 for s in due.values() if s == status) for status in before}
    arrived = 0
    while time.perf_counter() - started < seconds:
        now = server.counts(set(before))
        arrived = sum(min(wanted[s], now[s] - before[s]) for s in before)
        if arrived == len(due):
            break
        time.sleep(0.05)
    return arrived, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--baseline-leads", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="leads pushed a second")
    parser.add_argument("--outcomes", type=int, default=200, help="outcomes changed in the CRM")
    parser.add_argument("--poll-seconds", type=float, default=10.0)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL; SQLite if absent")
    parser.add_argument("--mode", choices=("inprocess", "rq"), default="rq")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8", help="for --mode rq")
    parser.add_argument("--workers", type=int, default=4, help="worker processes in rq mode")
    args = parser.parse_args()
    env = {
        "LEADBRIDGE_CRM_TIMEOUT_SECONDS": "0.5",
        "LEADBRIDGE_ALERT_RETRY_BASE_SECONDS": "0.2",
        "LEADBRIDGE_ALERT_MAX_ATTEMPTS": "30",
        "LEADBRIDGE_CRM_POLL_SECONDS": str(args.poll_seconds),
    }
    if args.mode == "rq":
        queue = f"bench-crm-{random.randrange(16**8):08x}"  # nobody else's jobs
        env |= {"LEADBRIDGE_REDIS_URL": args.redis_url, "LEADBRIDGE_ALERT_QUEUE": queue}
    rng = random.Random(15)
    with tempfile.TemporaryDirectory() as tmp, FakeHubSpot(TOKEN, hang_seconds=1.0) as crm:
        work = Path(tmp)
        with (
            fresh_database(work, args.database_url, "crm") as database,
            running_server(
                work, database, extra_env=env, workers=args.workers if args.mode == "rq" else 0
            ) as running,
        ):
            server = Server(running.url)
            connection = server.prepare(crm)
            tablet = DeviceStore(work / "tablet.sqlite3")
            pair(tablet, running.url, running.pairing_code, "Bench tablet")
            staff_id = next(m["id"] for m in tablet.members() if m["role"] == "staff")
            with SyncClient(tablet) as client:
                base = push_leads(tablet, client, rng, 0, args.baseline_leads, args.rate, staff_id)
                wait_delivered(crm, base, 30)
                baseline = latencies_ms(crm, base)
                crm.fault_rates = dict(FAULTS)
                pushed = push_leads(
                    tablet, client, rng, args.baseline_leads, args.leads, args.rate, staff_id
                )
                wait_delivered(crm, pushed, 60)
                crm.fault_rates = {}
            faults = dict(crm.faults_served)
            latencies = latencies_ms(crm, pushed)
            emails = {email for email, _ in pushed.values()}
            duplicates = sum(max(0, len(crm.by_email(email)) - 1) for email in emails)
            with crm.lock:
                contact_of = {c["properties"].get("email"): cid for cid, c in crm.contacts.items()}
            lead_of = {contact_of[e]: lead for lead, (e, _) in pushed.items() if e in contact_of}
            time.sleep(args.poll_seconds + 1)  # the poll has seen the pushes themselves
            chosen = rng.sample(sorted(lead_of), min(args.outcomes, len(lead_of)))
            half = len(chosen) // 2
            outcomes = {"contacted", "won", "lost"}
            # By poll: nothing tells the server; its next incremental poll finds them.
            before, started = server.counts(outcomes), time.perf_counter()
            polled = work_in_crm(crm, chosen[:half], rng)
            polled_back, poll_s = wait_outcomes(server, polled, before, 60, started)
            # By webhook: HubSpot notifies at once, signed.
            before = server.counts(outcomes)
            started = time.perf_counter()
            hooked = work_in_crm(crm, chosen[half:], rng)
            events = [
                {
                    "objectId": int(c),
                    "subscriptionType": "contact.propertyChange",
                    "propertyName": "hs_lead_status",
                    "occurredAt": int(time.time() * 1000),
                }
                for c in hooked
            ]
            signed_webhook(running.url, connection["webhook_path"], events)
            hooked_back, webhook_s = wait_outcomes(server, hooked, before, 30, started)
            tablet.close()
    delivered = len(latencies)
    p50 = statistics.median(latencies) if latencies else float("nan")
    p99 = percentile(latencies, 0.99)
    base_p50 = statistics.median(baseline) if baseline else float("nan")
    base_p99 = percentile(baseline, 0.99)
    print(
        f"faults served: {faults}; baseline without faults: {len(baseline)}/{args.baseline_leads} "
        f"delivered, p50_ms={base_p50:.0f} p99_ms={base_p99:.0f}; mode={args.mode}"
    )
    print(
        f"crm_bench leads={args.leads} delivered={delivered} duplicates={duplicates} "
        f"lost={args.leads - delivered} p50_ms={p50:.0f} p99_ms={p99:.0f} "
        f"outcomes_back={polled_back + hooked_back}/{len(polled) + len(hooked)} "
        f"poll_s={poll_s:.1f} webhook_ms={webhook_s * 1000:.0f} "
        f"base_p50_ms={base_p50:.0f} base_p99_ms={base_p99:.0f}"
    )


if __name__ == "__main__":
    main()
