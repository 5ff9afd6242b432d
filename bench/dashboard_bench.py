"""Dashboard and export speed: the event stats request and the CSV export over many leads.

    python bench/dashboard_bench.py --leads 100000 [--database-url postgresql://...@127.0.0.1/test]

Fills a fresh database (a SQLite file, or a new PostgreSQL schema dropped afterwards) with
--leads leads over 10 events, written with bulk Core inserts: three show days in each event's
own time zone, busier mid-morning and mid-afternoon, and a sales timeline for a share of them
(alerted seconds after arrival, acknowledged minutes later, contacted hours later, outcomes and
disqualification reasons). Then starts the real server on loopback and times, through HTTP,
GET /api/v1/events/<id>/stats as open dashboards poll it (cycling over the events, paced over
several cache times, with the stats cache as deployed: server/stats/cache.py), and GET
.../leads.csv of every event, streamed. The figures' own computing time is timed apart: the
first request of each event, and one each after a quiet spell longer than the cache time.
Last line:
dashboard_bench leads=N dashboard_p50_ms=N dashboard_p99_ms=N export_rows_per_s=N
db=sqlite|postgresql computed_p50_ms=N computed_max_ms=N, and on PostgreSQL
bare_copy_rows_per_s=N export_ratio=N: the export's own COPY query run bare in this
process, the ratio baseline of the export through HTTP (all on one line)
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fakedata import visitor  # noqa: E402
from bench.percentiles import percentile  # noqa: E402
from bench.serving import fresh_database, running_server  # noqa: E402
from server.devices.models import Device  # noqa: E402
from server.events.models import Event, EventMember  # noqa: E402
from server.leads.models import Lead  # noqa: E402
from server.seed import DEMO_PASSWORD, DEMO_PRODUCTS, DEMO_QUESTIONS  # noqa: E402
from server.users.models import User  # noqa: E402

EVENTS = 10
STAFF_PER_EVENT = 6
REPS = 8
TABLETS_PER_EVENT = 4
SHOW_DAYS = 3
INSERT_BATCH = 5000
STATS_REQUESTS = 200
# Dashboards poll every few seconds each; together they ask this often. 200 polls at this
# pace span more than three cache times, so figures are renewed during the run.
POLL_INTERVAL = 0.05
CACHE_SECONDS = 3.0  # the deployed default (LEADBRIDGE_STATS_CACHE_SECONDS)
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Europe/London", "Asia/Tokyo"]
DISQUALIFY = ["No budget", "Student", "Competitor", "Wrong region", "Just browsing"]
LOST = ["Chose a competitor", "Project cancelled", "Too expensive"]
# Hours of the show day, weighted like a real booth: a morning and an afternoon peak.
HOURS = list(range(9, 18))
HOUR_WEIGHTS = [3, 6, 9, 7, 4, 6, 8, 6, 3]


def _people(connection: sa.Connection) -> tuple[list[int], list[int]]:
    """Insert booth staff and reps; return their ids."""
    users = User.__table__
    tag = secrets.token_hex(3)
    rows = [
        {"email": f"bench-{tag}-staff{n}@example.com", "name": f"Staff {n}", "role": "staff"}
        for n in range(EVENTS * STAFF_PER_EVENT)
    ] + [
        {"email": f"bench-{tag}-rep{n}@example.com", "name": f"Rep {n}", "role": "rep"}
        for n in range(REPS)
    ]
    connection.execute(users.insert(), rows)
    ids = dict(
        connection.execute(
            sa.select(users.c.email, users.c.id).where(users.c.email.like(f"bench-{tag}-%"))
        ).all()
    )
    staff = [ids[row["email"]] for row in rows if row["role"] == "staff"]
    reps = [ids[row["email"]] for row in rows if row["role"] == "rep"]
    return staff, reps


def _event(connection: sa.Connection, number: int, first_day: date) -> int:
    values = {
        "name": f"Bench Expo {number}",
        "venue": f"Hall {number}",
        "starts_on": first_day,
        "ends_on": first_day + timedelta(days=SHOW_DAYS - 1),
        "timezone": ZONES[number % len(ZONES)],
        "booth": f"B{number}",
        "campaign_code": f"BENCH-{number}",
        "cost": Decimal(15000 + 1000 * number),
        "target_leads": 12000,
        "target_hot_leads": 3000,
        "questions": DEMO_QUESTIONS,
        "products": DEMO_PRODUCTS,
        "rubric": {"version": 0, "rules": []},
    }
    return connection.execute(sa.insert(Event.__table__).values(values)).inserted_primary_key[0]


def _devices(connection: sa.Connection, event_id: int, now: datetime) -> list[int]:
    ids = []
    for number in range(TABLETS_PER_EVENT):
        values = {
            "name": f"Tablet {number}",
            "event_id": event_id,
            "token_hash": secrets.token_hex(32),
            "last_seen_at": now - timedelta(seconds=30 * number),
        }
        ids.append(
            connection.execute(sa.insert(Device.__table__).values(values)).inserted_primary_key[0]
        )
    return ids


def _timeline(rng: random.Random, lead: dict[str, Any], reps: list[int]) -> None:
    """Give a lead what sales did with it, with realistic delays; some get nothing yet."""
    received = lead["received_at"]
    if rng.random() < 0.1:
        lead["status"] = rng.choice(["new", "disqualified"])
        if lead["status"] == "disqualified":
            lead["status_reason"] = rng.choice(DISQUALIFY)
        return
    lead["owner_id"] = rng.choice(reps)
    lead["alerted_at"] = alerted = received + timedelta(seconds=rng.uniform(2, 90))
    lead["status"] = "assigned"
    if rng.random() < 0.25:
        return
    lead["acknowledged_at"] = acked = alerted + timedelta(minutes=rng.lognormvariate(2.5, 1))
    lead["status"] = "acknowledged"
    if rng.random() < 0.3:
        return
    lead["first_contact_at"] = acked + timedelta(hours=rng.lognormvariate(1.5, 1))
    outcome = rng.random()
    if outcome < 0.3:
        lead["status"] = "contacted"
    elif outcome < 0.45:
        lead["status"] = "meeting"
    elif outcome < 0.6:
        lead["status"] = "qualified"
    elif outcome < 0.7:
        lead["status"] = "won"
        lead["deal_value"] = Decimal(rng.randrange(2000, 90000, 500))
    elif outcome < 0.8:
        lead["status"], lead["status_reason"] = "lost", rng.choice(LOST)
    else:
        lead["status"], lead["status_reason"] = "disqualified", rng.choice(DISQUALIFY)


# Each step of the timeline and the status a lead has when it got no further than that step.
_STEPS = (
    ("first_contact_at", "acknowledged"),
    ("acknowledged_at", "assigned"),
    ("alerted_at", "assigned"),
)


def _undo_the_future(lead: dict[str, Any], now: datetime) -> None:
    """Take back the steps of the running show that would only happen after now."""
    for field, status_before in _STEPS:
        if lead[field] is not None and lead[field] > now:
            lead[field] = None
            lead["status"], lead["status_reason"], lead["deal_value"] = status_before, None, None


def _lead(
    rng: random.Random, index: int, event: dict[str, Any], staff: list[int], reps: list[int]
) -> dict[str, Any]:
    zone = ZoneInfo(event["timezone"])
    day = event["starts_on"] + timedelta(days=rng.randrange(SHOW_DAYS))
    hour = rng.choices(HOURS, HOUR_WEIGHTS)[0]
    local = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60))
    captured = local.replace(tzinfo=zone).astimezone(UTC)
    if captured > event["now"]:
        # The running show has only had its hours up to now: take the same time a day earlier.
        captured -= timedelta(days=1)
    # Mostly online; one in twenty waited for the hall's network to come back.
    delay = rng.uniform(0.5, 5) if rng.random() < 0.95 else rng.uniform(600, 7200)
    fields = visitor(rng, index, rng.choice(staff))
    consent = fields.pop("consent")
    rating = fields["rating"]
    lead = {
        **fields,
        "id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "event_id": event["id"],
        "device_id": rng.choice(event["devices"]),
        "captured_at": captured,
        "received_at": captured + timedelta(seconds=delay),
        "updated_at": captured + timedelta(seconds=delay),
        "consent_given": consent["given"],
        "consent_version": consent["version"],
        "consent_at": captured,
        "consent_by_id": fields["captured_by_id"],
        "score_points": rng.randint(0, 100),
        "score_band": rating if rng.random() < 0.6 else rng.choice(["hot", "warm", "cold"]),
        "score_reasons": [{"reason": "Budget confirmed", "points": 30}],
        "rubric_version": 0,
        "server_version": 0,  # set in arrival order by fill()
        "owner_id": None,
        "alerted_at": None,
        "acknowledged_at": None,
        "first_contact_at": None,
        "status_reason": None,
        "deal_value": None,
        # No assigned_at: the server's escalation loop must not start working on bench data.
        "assigned_at": None,
    }
    _timeline(rng, lead, reps)
    _undo_the_future(lead, event["now"])
    return lead


def fill(database_url: str, leads: int, seed: int = 6) -> list[int]:
    """Insert events, people, tablets and leads with bulk Core inserts; return the event ids."""
    rng = random.Random(seed)
    engine = sa.create_engine(database_url)
    now = datetime.now(UTC)
    events = []
    with engine.begin() as connection:
        staff, reps = _people(connection)
        for number in range(EVENTS):
            first_day = (now - timedelta(days=2 + 7 * number)).date()
            event_id = _event(connection, number, first_day)
            team = staff[number * STAFF_PER_EVENT : (number + 1) * STAFF_PER_EVENT]
            connection.execute(
                sa.insert(EventMember.__table__),
                [{"event_id": event_id, "user_id": user_id} for user_id in team + reps],
            )
            events.append(
                {
                    "id": event_id,
                    "timezone": ZONES[number % len(ZONES)],
                    "starts_on": first_day,
                    "staff": team,
                    "devices": _devices(connection, event_id, now),
                    "now": now,
                }
            )
    table = Lead.__table__
    # The shows are a week apart and a live server stores leads as they arrive, so each
    # event's leads are generated together and inserted in arrival order, the way they
    # would sit on disk.
    for number, event in enumerate(sorted(events, key=lambda event: event["starts_on"])):
        share = range(number * leads // EVENTS, (number + 1) * leads // EVENTS)
        rows = [_lead(rng, index, event, event["staff"], reps) for index in share]
        rows.sort(key=lambda row: row["received_at"])
        for version, row in enumerate(rows, start=share.start + 1):
            row["server_version"] = version
        for start in range(0, len(rows), INSERT_BATCH):
            with engine.begin() as connection:
                connection.execute(table.insert(), rows[start : start + INSERT_BATCH])
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("ANALYZE"))
    engine.dispose()
    return [event["id"] for event in events]


def _timed_stats(session: requests.Session, url: str, event_id: int) -> float:
    started = time.perf_counter()
    response = session.get(f"{url}/api/v1/events/{event_id}/stats", timeout=60)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


def measure(url: str, event_ids: list[int]) -> tuple[float, float, float, list[float]]:
    """Return dashboard p50 and p99 in ms, export rows per second, and computing times in ms."""
    session = requests.Session()
    login = session.post(
        f"{url}/api/v1/auth/login",
        json={"email": "marketer@example.com", "password": DEMO_PASSWORD},
        timeout=30,
    )
    login.raise_for_status()
    session.headers["Authorization"] = f"Bearer {login.json()['token']}"
    # The first request of each event computes its figures (and warms the server).
    computed = [_timed_stats(session, url, event_id) for event_id in event_ids]
    samples = []
    next_poll = time.perf_counter()
    for number in range(STATS_REQUESTS):
        next_poll += POLL_INTERVAL
        samples.append(_timed_stats(session, url, event_ids[number % len(event_ids)]))
        time.sleep(max(0.0, next_poll - time.perf_counter()))
    time.sleep(CACHE_SECONDS + 0.5)  # a quiet spell: the figures expire
    computed += [_timed_stats(session, url, event_id) for event_id in event_ids]
    rows = 0
    started = time.perf_counter()
    for event_id in event_ids:
        with session.get(
            f"{url}/api/v1/events/{event_id}/leads.csv", stream=True, timeout=300
        ) as r:
            r.raise_for_status()
            # Count line ends in raw chunks: splitting lines in Python would make this client,
            # on the same two cores, slower than the server it measures. Bench notes hold no
            # line breaks, so every CRLF ends a row.
            last = b""
            for chunk in r.iter_content(chunk_size=256 * 1024):
                rows += chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
                last = chunk[-1:]
            rows -= 1  # the header
    exported = rows / (time.perf_counter() - started)
    return percentile(samples, 0.5), percentile(samples, 0.99), exported, computed


def bare_copy(database_url: str, workdir: Path, event_ids: list[int]) -> float:
    """Return rows per second of the export's own query as a bare COPY, read and dropped.

    The ratio baseline on PostgreSQL: the same COPY (SELECT ...) TO STDOUT the export runs,
    with no HTTP, no Python per line and no client, so what it costs is the database's part.
    """
    from server import create_app
    from server.auth.principal import Principal
    from server.exports.copy_csv import copy_statement
    from server.exports.rows import csv_query
    from server.extensions import db

    os.environ.setdefault("LEADBRIDGE_INSTANCE_DIR", str(workdir / "instance"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
    rows = 0
    with app.app_context():
        user = db.session.scalars(sa.select(User).where(User.role == "marketer")).first()
        principal = Principal(user=user)
        queries = [csv_query(db.session.get(Event, event_id), principal) for event_id in event_ids]
        started = time.perf_counter()
        with db.engine.connect() as connection:
            cursor = connection.connection.driver_connection.cursor()
            for query in queries:
                with cursor.copy(*copy_statement(db.engine, query)) as copy:
                    for _line in copy:
                        rows += 1
        elapsed = time.perf_counter() - started
        db.engine.dispose()
    return rows / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=100000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL; SQLite otherwise")
    args = parser.parse_args()
    kind = "postgresql" if args.database_url else "sqlite"
    # bench/serving.py pipes the server's stderr without reading it: with a log line per
    # request at INFO, hundreds of requests fill the pipe and the server stalls on a write.
    os.environ.setdefault("LEADBRIDGE_LOG_LEVEL", "WARNING")
    os.environ["LEADBRIDGE_STATS_CACHE_SECONDS"] = str(CACHE_SECONDS)
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        with fresh_database(workdir, args.database_url, "dashboard") as database_url:
            with running_server(workdir, database_url) as server:
                started = time.perf_counter()
                event_ids = fill(database_url, args.leads)
                print(f"filled {args.leads} leads in {time.perf_counter() - started:.1f} s")
                p50, p99, export, computed = measure(server.url, event_ids)
                baseline = ""
                if kind == "postgresql":
                    copied = bare_copy(database_url, workdir, event_ids)
                    baseline = (
                        f" bare_copy_rows_per_s={copied:.0f} export_ratio={export / copied:.2f}"
                    )
    print(
        f"dashboard_bench leads={args.leads} dashboard_p50_ms={p50:.0f} "
        f"dashboard_p99_ms={p99:.0f} export_rows_per_s={export:.0f} db={kind} "
        f"computed_p50_ms={percentile(computed, 0.5):.0f} computed_max_ms={max(computed):.0f}"
        f"{baseline}"
    )


if __name__ == "__main__":
    main()
