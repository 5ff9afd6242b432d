"""Load: hundreds of tablets syncing at once, reps acknowledging, marketers watching the dashboard.

    python bench/load.py --devices 200 --seconds 60

Starts the production set-up on loopback (gunicorn via `leadbridge serve --production`,
PostgreSQL, Redis and a `leadbridge worker`) and a webhook receiver for the event's alerts.
Each simulated tablet (a coroutine speaking the sync protocol over its own kept-alive HTTP
connection, with its own outbox and mutation ids; all of them on one asyncio event loop, so the
simulator's own thread contention is not measured as server latency) captures a lead every
2-6 s, pushes it, and pulls between pushes; 20 reps list their assigned leads and acknowledge
them through the API; 5 marketers poll the event's statistics (`GET /api/v1/events/<id>/stats`).
Afterwards every tablet empties its outbox, the database is checked for every captured lead, and
the receiver for every lead's alert.
Loopback only; every loop is bounded by the run's time. Last line:
load devices=N seconds=N requests=N errors=N push_p99_ms=N pull_p99_ms=N dashboard_p99_ms=N
leads_lost=N alerts_missing=N
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fakedata import visitor  # noqa: E402
from bench.percentiles import percentile  # noqa: E402
from bench.processes import KINDS, Snapshot, cpu_ms_by_kind, snapshot  # noqa: E402
from bench.production import Stack, production_stack  # noqa: E402
from bench.serving import fresh_database, lift_rep_capacities  # noqa: E402
from tests.peers import WebhookReceiver  # noqa: E402

DEMO_PASSWORD = "leadbridge-demo"
REPS, MARKETERS = 20, 5
PROTOCOL = {"Leadbridge-Protocol": "1"}
# Requests time out well before a run ends, so a hung connection counts as an error, not a hang.
TIMEOUT_S = 15


@dataclass
class Metrics:
    """Latencies and counts shared by every simulated client."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {"push": [], "pull": [], "dashboard": [], "ack": []}
    )
    # (when it was sent, latency in ms) of each push, for the p99 over the run's course.
    push_timeline: list[tuple[float, float]] = field(default_factory=list)
    requests: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)

    def record(self, kind: str, started: float, ok: bool, what: str = "") -> None:
        """Count one request, and its latency in ms."""
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.requests += 1
            self.latencies[kind].append(elapsed)
            if kind == "push":
                self.push_timeline.append((started, elapsed))
            if not ok:
                self.errors += 1
                self.error_kinds[what] = self.error_kinds.get(what, 0) + 1

    def push_p99_by_slice(self, seconds: float = 10.0) -> list[int]:
        """Return the push p99 (ms) of each slice of the run: where in the run the tail is."""
        if not self.push_timeline:
            return []
        first = min(sent for sent, _ in self.push_timeline)
        slices: dict[int, list[float]] = {}
        for sent, elapsed in self.push_timeline:
            slices.setdefault(int((sent - first) // seconds), []).append(elapsed)
        return [round(percentile(values, 0.99)) for _, values in sorted(slices.items())]

    def p99(self, kind: str) -> float:
        """Return the 99th percentile latency of kind, in ms."""
        return percentile(self.latencies[kind], 0.99)


async def _call(
    session: aiohttp.ClientSession,
    metrics: Metrics,
    kind: str,
    method: str,
    url: str,
    **kwargs: Any,
) -> Any:
    """Send one request and read its answer, record it; its JSON, or None when it failed."""
    started = time.perf_counter()
    try:
        async with session.request(method, url, **kwargs) as response:
            body = await response.read()
    except (aiohttp.ClientError, TimeoutError) as error:
        metrics.record(kind, started, False, f"{kind}:{type(error).__name__}")
        return None
    ok = response.status < 400
    metrics.record(kind, started, ok, f"{kind}:{response.status}")
    return json.loads(body) if ok else None


def _client(headers: dict[str, str]) -> aiohttp.ClientSession:
    """Return one simulated device's HTTP client: its own kept-alive connection, as a tablet has."""
    return aiohttp.ClientSession(
        headers=headers, timeout=aiohttp.ClientTimeout(total=TIMEOUT_S), raise_for_status=False
    )


class Tablet:
    """A paired tablet: captures leads into an outbox, pushes it exactly once, pulls between."""

    def __init__(self, url: str, token: str, staff_id: int, seed: int, metrics: Metrics):
        self.url, self.staff_id, self.metrics = url, staff_id, metrics
        self.headers = {"Authorization": f"Bearer {token}", **PROTOCOL}
        self.rng = random.Random(seed)
        self.seed = seed
        self.outbox: list[dict[str, Any]] = []
        self.next_mutation = 1
        self.cursor = 0
        self.captured: list[str] = []

    def capture(self) -> None:
        """Save one visitor as a lead and its create mutation (the tablet's one transaction)."""
        lead_id = str(uuid.uuid4())
        fields = visitor(self.rng, self.seed * 100_000 + len(self.captured), self.staff_id)
        fields["captured_at"] = datetime.now(UTC).isoformat()
        fields["consent"]["at"] = fields["captured_at"]
        mutation = {
            "mutation_id": self.next_mutation,
            "kind": "create",
            "lead_id": lead_id,
            "fields": fields,
        }
        self.next_mutation += 1
        self.outbox.append(mutation)
        self.captured.append(lead_id)

    async def push(self, session: aiohttp.ClientSession) -> bool:
        """Send the outbox (up to 100); drop what the server has handled."""
        if not self.outbox:
            return True
        body = {"mutations": self.outbox[:100]}
        answer = await _call(
            session, self.metrics, "push", "POST", f"{self.url}/api/v1/sync/push", json=body
        )
        if answer is None:
            return False
        handled = answer["last_mutation_id"]
        self.outbox = [m for m in self.outbox if m["mutation_id"] > handled]
        return True

    async def pull(self, session: aiohttp.ClientSession) -> None:
        """Fetch changes after the cursor, one page."""
        answer = await _call(
            session,
            self.metrics,
            "pull",
            "GET",
            f"{self.url}/api/v1/sync/pull",
            params={"cursor": self.cursor, "limit": 200},
        )
        if answer is not None:
            self.cursor = answer["next_cursor"]

    async def run(self, session: aiohttp.ClientSession, stop_at: float) -> None:
        """Capture, push and pull until stop_at."""
        # Each tablet's first capture falls anywhere in its first capture period (2-6 s
        # apart), so the hall captures at its steady rate from the start: two hundred
        # tablets switched on within the same three seconds is a burst no hall sees.
        await asyncio.sleep(self.rng.uniform(0, 6))
        while time.monotonic() < stop_at:
            self.capture()
            await self.push(session)
            gap = self.rng.uniform(2, 6)
            await asyncio.sleep(min(gap / 2, max(0.0, stop_at - time.monotonic())))
            if time.monotonic() >= stop_at:
                break
            await self.pull(session)
            await asyncio.sleep(min(gap / 2, max(0.0, stop_at - time.monotonic())))

    async def flush(self, session: aiohttp.ClientSession, deadline: float) -> None:
        """Push until the outbox is empty, retrying with a pause, until deadline."""
        while self.outbox and time.monotonic() < deadline:
            if not await self.push(session):
                await asyncio.sleep(0.5)


async def _rep(
    url: str, session: aiohttp.ClientSession, seed: int, metrics: Metrics, stop_at: float
) -> None:
    """List the rep's newly assigned leads and acknowledge them, every 2-4 s."""
    rng = random.Random(seed)
    while time.monotonic() < stop_at:
        listed = await _call(
            session,
            metrics,
            "ack",
            "GET",
            f"{url}/api/v1/leads",
            params={"status": "assigned", "page_size": 10},
        )
        for lead in listed["items"] if listed is not None else []:
            if time.monotonic() >= stop_at:
                break
            await _call(
                session,
                metrics,
                "ack",
                "PATCH",
                f"{url}/api/v1/leads/{lead['id']}",
                json={"status": "acknowledged"},
            )
        await asyncio.sleep(rng.uniform(2, 4))


async def _marketer(
    url: str, path: str, session: aiohttp.ClientSession, seed: int, metrics: Metrics, stop_at: float
) -> None:
    """Refresh the dashboard's figures every 1.5-2.5 s."""
    rng = random.Random(seed)
    while time.monotonic() < stop_at:
        await _call(session, metrics, "dashboard", "GET", f"{url}{path}")
        await asyncio.sleep(rng.uniform(1.5, 2.5))


async def _simulate(
    url: str, setup: Setup, tablets: list[Tablet], metrics: Metrics, stop_at: float
) -> None:
    """Run every tablet, rep and marketer until stop_at; then the tablets empty their outboxes."""
    online = [(tablet, _client(tablet.headers)) for tablet in tablets]
    reps = [_client(headers) for headers in setup.reps]
    marketers = [_client(headers) for headers in setup.marketers]
    try:
        await asyncio.gather(
            *(tablet.run(client, stop_at) for tablet, client in online),
            *(_rep(url, client, i, metrics, stop_at) for i, client in enumerate(reps)),
            *(
                _marketer(url, setup.dashboard_path, client, i, metrics, stop_at)
                for i, client in enumerate(marketers)
            ),
        )
        # Every tablet empties its outbox, as it would once the hall's network calms down.
        flush_deadline = time.monotonic() + 60
        await asyncio.gather(*(tablet.flush(client, flush_deadline) for tablet, client in online))
    finally:
        for client in (*(client for _tablet, client in online), *reps, *marketers):
            await client.close()


@dataclass
class Setup:
    """What the run needs from the server: the event, its tablets and people."""

    event_id: int
    tablets: list[tuple[str, int]]
    reps: list[dict[str, str]]
    marketers: list[dict[str, str]]
    dashboard_path: str


def _login(session: requests.Session, url: str, email: str, password: str) -> dict[str, str]:
    response = session.post(
        f"{url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=30
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def prepare(url: str, devices: int, webhook_url: str) -> Setup:
    """Create the reps and marketers, route the demo event round-robin, pair the tablets."""
    session = requests.Session()
    admin = _login(session, url, "admin@example.com", DEMO_PASSWORD)
    event = session.get(f"{url}/api/v1/events", headers=admin, timeout=30).json()[0]
    event_id = event["id"]
    password = "load-test-password"
    people: dict[str, list[dict[str, str]]] = {"rep": [], "marketer": []}
    for role, count in (("rep", REPS), ("marketer", MARKETERS)):
        for index in range(count):
            body = {
                "email": f"load.{role}{index}@example.com",
                "name": f"Load {role} {index}",
                "role": role,
                "password": password,
            }
            created = session.post(f"{url}/api/v1/users", json=body, headers=admin, timeout=30)
            created.raise_for_status()
            if role == "rep":
                session.post(
                    f"{url}/api/v1/events/{event_id}/members",
                    json={"user_id": created.json()["id"]},
                    headers=admin,
                    timeout=30,
                ).raise_for_status()
            people[role].append(_login(session, url, body["email"], password))
    lift_rep_capacities(session, url, admin, timeout=30)
    # Every rep on the event is eligible (fair round-robin); alerts go to the webhook only.
    session.patch(
        f"{url}/api/v1/events/{event_id}",
        json={
            "routing": {"rules": []},
            "alerts": {"email": False, "webhook_url": webhook_url, "webhook_secret": "load"},
        },
        headers=admin,
        timeout=30,
    ).raise_for_status()
    members = session.get(f"{url}/api/v1/events/{event_id}/members", headers=admin, timeout=30)
    staff_id = next(m["user_id"] for m in members.json() if m["user"]["role"] == "staff")
    tablets = []
    for index in range(devices):
        code = session.post(
            f"{url}/api/v1/devices/pairing-codes",
            json={"event_id": event_id},
            headers=admin,
            timeout=30,
        )
        code.raise_for_status()
        paired = session.post(
            f"{url}/api/v1/devices/pair",
            json={"code": code.json()["code"], "name": f"Tablet {index}"},
            timeout=30,
        )
        paired.raise_for_status()
        tablets.append((paired.json()["token"], staff_id))
    dashboard = f"/api/v1/events/{event_id}/stats"
    if session.get(f"{url}{dashboard}", headers=admin, timeout=30).status_code == 404:
        dashboard = f"/api/v1/leads?event_id={event_id}&page_size=50"
    return Setup(event_id, tablets, people["rep"], people["marketer"], dashboard)


def _cpu_jiffies() -> tuple[int, int] | None:
    """Return (busy, total) CPU time of the whole machine so far, in clock ticks (Linux)."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:]]
    except OSError:
        return None
    idle = ticks[3] + ticks[4]  # idle and waiting for I/O
    return sum(ticks) - idle, sum(ticks)


@dataclass(frozen=True)
class MachineLoad:
    """How busy the whole machine was during the simulated time, and CPU per request.

    These virtual machines change speed by the hour (the same code's push p99 has varied
    threefold from one hour to the next), so a run's latencies mean little without them:
    CPU per request says how fast the machine was, busy how close to saturation it ran.
    """

    busy_pct: float | None
    cpu_ms_per_request: float | None

    @classmethod
    def since(cls, start: tuple[int, int] | None, requests: int) -> MachineLoad:
        """Measure from start (_cpu_jiffies) to now, over requests requests."""
        end = _cpu_jiffies()
        if start is None or end is None or end[1] == start[1]:
            return cls(None, None)
        busy, total = end[0] - start[0], end[1] - start[1]
        busy_ms = busy * 1000 / os.sysconf("SC_CLK_TCK")
        return cls(round(100 * busy / total, 1), round(busy_ms / max(1, requests), 2))


@dataclass
class Result:
    """The figures of one load run."""

    devices: int
    seconds: float
    metrics: Metrics
    captured: list[str]
    leads_lost: int
    leads_extra: int
    alerts_missing: int
    dashboard_path: str
    faults: list[str]
    server_p99_ms: dict[str, int] = field(default_factory=dict)
    machine: MachineLoad = field(default_factory=lambda: MachineLoad(None, None))
    cpu_by_kind: dict[str, float] = field(default_factory=dict)
    server_cpu_ms: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        """Return the benchmark's last line."""
        m = self.metrics
        return (
            f"load devices={self.devices} seconds={self.seconds:g} requests={m.requests} "
            f"errors={m.errors} push_p99_ms={m.p99('push'):.0f} pull_p99_ms={m.p99('pull'):.0f} "
            f"dashboard_p99_ms={m.p99('dashboard'):.0f} leads_lost={self.leads_lost} "
            f"alerts_missing={self.alerts_missing}"
        )


def alerted(receiver: WebhookReceiver) -> set[str]:
    """Return the ids of the leads whose new-lead alert reached the receiver."""
    with receiver.changed:
        bodies = [request.json or {} for request in receiver.requests]
    return {body.get("lead", {}).get("id") for body in bodies if body.get("type") == "new_lead"}


def lead_ids(database_url: str) -> set[str]:
    """Return the ids of every lead in the database."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT id FROM leads")).scalars().all()
    finally:
        engine.dispose()
    return {str(value) for value in rows}


def _access_entries(workdir: Path) -> Iterator[dict[str, Any]]:
    for line in (workdir / "web.log").read_text(errors="replace").splitlines():
        if '"leadbridge.access"' in line:
            yield json.loads(line)


def server_p99(workdir: Path) -> dict[str, int]:
    """Return the p99 of the server's own handling time per route, from its access log."""
    durations: dict[str, list[float]] = {}
    for entry in _access_entries(workdir):
        route = entry["route"].rsplit("/", 1)[-1]
        durations.setdefault(route, []).append(entry["duration_ms"])
    return {
        route: round(percentile(values, 0.99))
        for route, values in durations.items()
        if len(values) >= 20
    }


def server_cpu(workdir: Path) -> dict[str, float]:
    """Return the mean web-thread CPU ms per request by method and route, from the access log.

    Empty when the server's access log does not carry each request's CPU (`cpu_ms`).
    """
    spent: dict[str, list[float]] = {}
    for entry in _access_entries(workdir):
        if "cpu_ms" in entry:
            key = f"{entry['method']} {entry['route'].rsplit('/', 1)[-1]}"
            spent.setdefault(key, []).append(entry["cpu_ms"])
    return {
        key: round(sum(values) / len(values), 2)
        for key, values in spent.items()
        if len(values) >= 20
    }


def _show_alert_jobs(database_url: str, lead_ids: set[str]) -> None:
    """Print to stderr how the outbox stands for leads whose alert never arrived, for diagnosis."""
    engine = sa.create_engine(database_url)
    query = sa.text(
        "SELECT status, attempts, lease_until IS NOT NULL AS leased, last_error, count(*)"
        " FROM alert_jobs WHERE CAST(lead_id AS TEXT) IN :ids"
        " GROUP BY status, attempts, lease_until IS NOT NULL, last_error"
    ).bindparams(sa.bindparam("ids", expanding=True))
    try:
        with engine.connect() as connection:
            for row in connection.execute(query, {"ids": sorted(lead_ids)}):
                print(f"unalerted leads' jobs: {tuple(row)}", file=sys.stderr)
    finally:
        engine.dispose()


def _show_server_errors(workdir: Path) -> None:
    """Print the server's own error lines (not its access log) to stderr, for diagnosis."""
    for log in sorted(workdir.glob("*.log")):
        lines = [
            line
            for line in log.read_text(errors="replace").splitlines()
            if "leadbridge.access" not in line and "[INFO]" not in line
        ]
        for line in lines[-20:]:
            print(f"{log.name}: {line[:2000]}", file=sys.stderr)


class KindSampler(threading.Thread):
    """CPU per request by kind of process over the steady middle of the run (bench/processes).

    From a quarter to 85% of the simulated time: past the start-up, before the end's flush.
    """

    def __init__(self, stack: Stack, metrics: Metrics, started: float, seconds: float):
        super().__init__(name="cpu-by-kind", daemon=True)
        self.stack, self.metrics = stack, metrics
        self.window = (started + seconds * 0.25, started + seconds * 0.85)
        self.by_kind: dict[str, float] = {}

    def _snapshot(self) -> tuple[Snapshot, int]:
        workers = [process.pid for process in self.stack.workers]
        return snapshot([self.stack.web.pid], workers), self.metrics.requests

    def run(self) -> None:
        time.sleep(max(0.0, self.window[0] - time.monotonic()))
        start, first = self._snapshot()
        time.sleep(max(0.0, self.window[1] - time.monotonic()))
        end, last = self._snapshot()
        served = max(1, last - first)
        used = cpu_ms_by_kind(start, end)
        self.by_kind = {kind: round(used[kind] / served, 2) for kind in KINDS}


@contextmanager
def _database(workdir: Path, url: str, own: bool) -> Iterator[str]:
    if own:
        yield url.replace("postgresql://", "postgresql+psycopg://", 1)
        return
    with fresh_database(workdir, url, "load") as database:
        yield database


def run(
    devices: int,
    seconds: float,
    database_url: str,
    redis_url: str,
    *,
    web_workers: int = 2,
    threads: int = 3,
    faults: Callable[[Stack, float], list[str]] | None = None,
    extra_env: dict[str, str] | None = None,
    own_database: bool = False,
) -> Result:
    """Run the load against a fresh production set-up; faults(stack, stop_at) runs beside it.

    A new schema is made in database_url for the run, unless own_database says the whole
    database is the run's already (a private cluster that the faults restart).
    """
    metrics = Metrics()
    env = {
        # People log in and tablets pair far faster here than at a show: lift those two limits,
        # keep the sync limit as configured, counters in Redis as in production.
        "LEADBRIDGE_RATELIMIT_LOGIN": "10000 per minute",
        "LEADBRIDGE_RATELIMIT_PAIRING": "10000 per minute",
        **(extra_env or {}),
    }
    with (
        tempfile.TemporaryDirectory() as tmp,
        WebhookReceiver() as receiver,
        _database(Path(tmp), database_url, own_database) as database,
        production_stack(
            Path(tmp), database, redis_url, web_workers=web_workers, threads=threads, extra_env=env
        ) as stack,
    ):
        setup = prepare(stack.url, devices, receiver.url("/alerts"))
        before = lead_ids(database)
        stop_at = time.monotonic() + seconds
        tablets = [
            Tablet(stack.url, token, staff_id, seed, metrics)
            for seed, (token, staff_id) in enumerate(setup.tablets, start=1)
        ]
        # Every simulated device on one event loop in one thread: hundreds of threads would
        # contend for this process's GIL, and that wait would be measured as server latency.
        simulation = threading.Thread(
            target=asyncio.run,
            args=(_simulate(stack.url, setup, tablets, metrics, stop_at),),
            name="simulated-devices",
            daemon=True,
        )
        machine_at_start = _cpu_jiffies()
        sampler = KindSampler(stack, metrics, time.monotonic(), seconds)
        sampler.start()
        simulation.start()
        fault_log = faults(stack, stop_at) if faults else []
        simulation.join(timeout=max(0.0, stop_at - time.monotonic()))
        machine = MachineLoad.since(machine_at_start, metrics.requests)
        simulation.join(timeout=max(0.0, stop_at - time.monotonic()) + 60 + TIMEOUT_S * 3)
        captured = {lead for tablet in tablets for lead in tablet.captured}
        # Alerts get up to 90 s after the last push to arrive (a killed worker's lease included).
        alert_deadline = time.monotonic() + 90
        while time.monotonic() < alert_deadline and not captured <= alerted(receiver):
            time.sleep(0.5)
        unalerted = captured - alerted(receiver)
        missing = len(unalerted)
        if unalerted:
            _show_alert_jobs(database, unalerted)
        stored = lead_ids(database) - before
        if metrics.errors or missing or captured - stored:
            _show_server_errors(Path(tmp))
        handling = server_p99(Path(tmp))
        handling_cpu = server_cpu(Path(tmp))
        sampler.join(timeout=1)
    # Lost: captured but not stored. Extra: stored but never captured (a phantom copy).
    lost, extra = len(captured - stored), len(stored - captured)
    return Result(
        devices,
        seconds,
        metrics,
        sorted(captured),
        lost,
        extra,
        missing,
        setup.dashboard_path,
        fault_log,
        handling,
        machine,
        sampler.by_kind,
        handling_cpu,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=3, help="threads per web worker")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "LEADBRIDGE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        help="PostgreSQL URL (a fresh schema is made in it and dropped)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("LEADBRIDGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    )
    args = parser.parse_args()
    if not 1 <= args.devices <= 1000 or not 1 <= args.seconds <= 600:
        parser.error("--devices 1-1000 and --seconds 1-600")
    result = run(
        args.devices,
        args.seconds,
        args.database_url,
        args.redis_url,
        web_workers=args.web_workers,
        threads=args.threads,
    )
    m = result.metrics
    print(
        f"dashboard={result.dashboard_path.split('?')[0]} leads={len(result.captured)} "
        f"leads_extra={result.leads_extra} ack_p99_ms={m.p99('ack'):.0f} "
        f"requests_by_kind={ {kind: len(values) for kind, values in m.latencies.items()} } "
        f"server_p99_ms={result.server_p99_ms} errors_by_kind={m.error_kinds or '{}'} "
        f"push_p99_ms_by_10s={m.push_p99_by_slice()} machine_busy_pct={result.machine.busy_pct} "
        f"machine_cpu_ms_per_request={result.machine.cpu_ms_per_request} "
        f"cpu_ms_per_request_by_kind={result.cpu_by_kind} "
        f"server_cpu_ms_by_route={result.server_cpu_ms}"
    )
    print(result.line())


if __name__ == "__main__":
    main()
