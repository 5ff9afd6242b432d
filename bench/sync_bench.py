"""Sync throughput: capture leads on a tablet store, push them, pull them onto a fresh tablet.

    python bench/sync_bench.py --leads 10000 [--database-url postgresql://...@127.0.0.1/test]
        [--redis-url redis://127.0.0.1:6379/N]

Starts the real server (a separate process, waitress) on loopback. It delivers each lead's
alert email itself, to an SMTP sink on loopback, while it syncs (the `make run` set-up); with
--redis-url it queues alerts for `leadbridge worker` processes as deployed, and none runs, so
the figures are the sync path's alone (alert delivery is measured by alert_latency.py and
load.py). Baselines, measured in the same run: for push, SQLAlchemy Core executemany of the
very rows the push stored, on the same kind of database; for pull (every personal-data column
sealed), one executemany of the very sealed rows the pull wrote into a fresh tablet file of
the same schema and settings. The pull's tablet side (applying the pages) is timed apart.
Last line:
sync_bench leads=N push_leads_per_s=N pull_rows_per_s=N raw_insert_rows_per_s=N push_ratio=R
save_p99_ms=N sealed_insert_rows_per_s=N pull_ratio=R pull_apply_rows_per_s=N
write_bound_ratio=R (the push_ratio a push writing its rows by bare executemany, and doing
nothing else, would reach: the bound of push_ratio)
"""

from __future__ import annotations

import argparse
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from redis import Redis
from rq import Queue

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import server.models  # noqa: E402, F401 (puts every table in db.metadata)
from bench.baselines import executemany_rate, executemany_seconds, row_counts, rows_added  # noqa: E402
from bench.fakedata import visitor  # noqa: E402
from bench.percentiles import percentile  # noqa: E402
from bench.serving import fresh_database, running_server  # noqa: E402
from server.extensions import db  # noqa: E402
from server.leads.models import Lead  # noqa: E402
from sync.client import SyncClient, pair  # noqa: E402
from sync.store import DeviceStore  # noqa: E402


@contextmanager
def queued_alerts(redis_url: str | None) -> Iterator[dict[str, str]]:
    """Yield the server settings that queue alerts in Redis; empty that queue afterwards.

    Without a URL, the server delivers alerts itself, to an SMTP sink, while it syncs.
    """
    if not redis_url:
        yield {}
        return
    name = f"bench-sync-{secrets.token_hex(4)}"
    try:
        yield {"LEADBRIDGE_REDIS_URL": redis_url, "LEADBRIDGE_ALERT_QUEUE": name}
    finally:
        Queue(name, connection=Redis.from_url(redis_url)).delete(delete_jobs=True)


def _staff_id(store: DeviceStore) -> int:
    return next(member["id"] for member in store.members() if member["role"] == "staff")


def _raw_insert_rate(source_url: str, target_url: str) -> float:
    """Copy the leads the push stored into a bare table of the same columns, executemany."""
    source = sa.create_engine(source_url)
    with source.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(sa.select(Lead.__table__))]
    source.dispose()
    return executemany_rate(Lead.__table__, rows, target_url)


def _sealed_insert_rate(pulled: Path, target: Path) -> float:
    """Insert the sealed rows a pull wrote into a fresh tablet file, in one executemany."""
    source = sqlite3.connect(pulled)
    cursor = source.execute("SELECT * FROM leads")
    names = [column[0] for column in cursor.description]
    rows = cursor.fetchall()
    source.close()
    DeviceStore(target).close()  # the tablet's schema, migrations and key
    connection = sqlite3.connect(target, isolation_level=None)
    # The settings the store writes with (sync/store.py).
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA secure_delete = ON")
    marks = ", ".join("?" for _ in names)
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(f"INSERT INTO leads ({', '.join(names)}) VALUES ({marks})", rows)
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return len(rows) / elapsed


class _TimedApply:
    """Wrap a store's apply_pull_page to add up the time the tablet spends applying pages."""

    def __init__(self, store: DeviceStore):
        self.seconds = 0.0
        self._apply = store.apply_pull_page
        store.apply_pull_page = self  # type: ignore[method-assign]

    def __call__(self, changes: list, next_cursor: int) -> None:
        started = time.perf_counter()
        self._apply(changes, next_cursor)
        self.seconds += time.perf_counter() - started


def _fill(
    store: DeviceStore, rng: random.Random, staff_id: int, count: int, start: int
) -> list[float]:
    timings = []
    for index in range(start, start + count):
        fields = visitor(rng, index, staff_id)
        began = time.perf_counter()
        store.save_lead(fields)
        timings.append(time.perf_counter() - began)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument(
        "--tablet-leads",
        type=int,
        default=50_000,
        help="leads already on the tablet when save latency is measured",
    )
    parser.add_argument("--save-samples", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL; SQLite if absent")
    parser.add_argument(
        "--redis-url",
        default=None,
        help="queue alerts in Redis for workers, none of which runs (the sync path alone)",
    )
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp, queued_alerts(args.redis_url) as queue_env:
        work = Path(tmp)
        with (
            fresh_database(work, args.database_url, "server") as server_db,
            running_server(work, server_db, extra_env=queue_env) as server,
        ):
            tablet = DeviceStore(work / "tablet.sqlite3")
            pair(tablet, server.url, server.pairing_code, "Bench tablet")
            staff_id = _staff_id(tablet)
            _fill(tablet, rng, staff_id, args.leads, 0)
            before_push = row_counts(server_db, db.metadata)
            with SyncClient(tablet) as client:
                started, server_cpu = time.perf_counter(), server.cpu_seconds()
                push_tablet_cpu = time.process_time()
                report = client.push()
                push_seconds = time.perf_counter() - started
                push_cpu = server.cpu_seconds() - server_cpu
                push_tablet_cpu = time.process_time() - push_tablet_cpu
            assert report.pushed == args.leads and tablet.outbox_size() == 0, report
            # The push writes more than its leads: receipts, activities, jobs, consents. The
            # same rows by bare executemany are the bound a push that did nothing else meets.
            written = rows_added(server_db, db.metadata, before_push)
            pushed_rate = args.leads / push_seconds

            pairing = tablet.pairing()
            fresh = DeviceStore(work / "fresh.sqlite3")
            fresh.set_pairing(
                pairing["server_url"],
                pairing["device_id"],
                pairing["event_id"],
                pairing["token"],
                None,
            )
            applying = _TimedApply(fresh)
            with SyncClient(fresh) as client:
                started, server_cpu = time.perf_counter(), server.cpu_seconds()
                tablet_cpu = time.process_time()
                client.pull()
                pull_seconds = time.perf_counter() - started
                pull_cpu = server.cpu_seconds() - server_cpu
                tablet_cpu = time.process_time() - tablet_cpu
            pulled = fresh.counts()["total"]
            assert pulled == args.leads, pulled
            pull_rate = pulled / pull_seconds
            apply_rate = pulled / applying.seconds
            fresh.close()
            sealed_rate = _sealed_insert_rate(work / "fresh.sqlite3", work / "baseline.sqlite3")

            with fresh_database(work, args.database_url, "raw") as raw_db:
                raw_rate = _raw_insert_rate(server_db, raw_db)
            with fresh_database(work, args.database_url, "rawall") as raw_db:
                write_bound_rate = args.leads / executemany_seconds(written, raw_db)

            already = tablet.counts()["total"]
            _fill(tablet, rng, staff_id, max(0, args.tablet_leads - already), already)
            samples = _fill(tablet, rng, staff_id, args.save_samples, args.tablet_leads)
            tablet.close()
    save_p99 = percentile(samples, 0.99) * 1000
    # CPU, not wall time: this machine's other work slows the wall clock, not the CPU used.
    print(
        f"server cpu per pushed lead {push_cpu / args.leads * 1e6:.0f} us, per pulled row "
        f"{pull_cpu / args.leads * 1e6:.0f} us; tablet cpu per pulled row "
        f"{tablet_cpu / args.leads * 1e6:.0f} us, per pushed lead "
        f"{push_tablet_cpu / args.leads * 1e6:.0f} us",
        file=sys.stderr,
    )
    print(
        "rows the push wrote per lead: "
        + ", ".join(f"{table.name} {len(rows) / args.leads:.2f}" for table, rows in written)
        + f"; bare executemany of all of them: {write_bound_rate:.0f} leads/s",
        file=sys.stderr,
    )
    print(
        f"save median {statistics.median(samples) * 1000:.2f} ms over {len(samples)} saves "
        f"with {args.tablet_leads} leads on the tablet",
        file=sys.stderr,
    )
    print(
        f"sync_bench leads={args.leads} push_leads_per_s={pushed_rate:.0f} "
        f"pull_rows_per_s={pull_rate:.0f} raw_insert_rows_per_s={raw_rate:.0f} "
        f"push_ratio={pushed_rate / raw_rate:.2f} save_p99_ms={save_p99:.1f} "
        f"sealed_insert_rows_per_s={sealed_rate:.0f} pull_ratio={pull_rate / sealed_rate:.2f} "
        f"pull_apply_rows_per_s={apply_rate:.0f} "
        f"write_bound_ratio={write_bound_rate / raw_rate:.2f}"
    )


if __name__ == "__main__":
    main()
