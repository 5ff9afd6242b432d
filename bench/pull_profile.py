"""Server CPU of building pull pages, in process: a tablet's leads read back page by page.

    python bench/pull_profile.py [--leads 5000] [--page 1000] [--rounds 3] [--profile 25]
                                 [--database-url ...]

Seeds the demo event, pairs a real tablet store (over loopback HTTP, once), fills it with
visitors and pushes them through `server.sync.push.push` in batches of 100, as
bench/push_profile.py does. Then it pulls the tablet's changes from cursor 0 in full pages,
each built by `server.sync.pull.pull` and encoded by `server.sync.pages.encode_page` (what the
pull endpoint returns), timed by CPU; --rounds full pulls, so the first round's cold caches
count less. With --profile N, prints cProfile's top N entries (cumulative and own time) of the
same pages. Last line:
pull_profile rows=N page=N cpu_us_per_row=N
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402

from bench.push_profile import queued_batches  # noqa: E402
from bench.serving import fresh_database  # noqa: E402
from server import create_app  # noqa: E402
from server.devices.models import Device  # noqa: E402
from server.extensions import db  # noqa: E402
from server.sync.pages import encode_page  # noqa: E402
from server.sync.pull import pull  # noqa: E402
from server.sync.push import push  # noqa: E402
from server.sync.schemas import PushSchema  # noqa: E402
from tests.peers import LOOPBACK_NETWORKS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--page", type=int, default=1000, help="the pull's limit")
    parser.add_argument("--rounds", type=int, default=3, help="full pulls from cursor 0")
    parser.add_argument("--profile", type=int, default=0, help="print the top N entries")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL URL (a fresh schema); SQLite if absent"
    )
    args = parser.parse_args()
    os.environ.setdefault("LEADBRIDGE_WEBHOOK_ALLOWED_NETWORKS", LOOPBACK_NETWORKS)
    with (
        tempfile.TemporaryDirectory() as tmp,
        fresh_database(Path(tmp), args.database_url, "profile") as url,
    ):
        work = Path(tmp)
        app = create_app(
            {
                "SECRET_KEY": "bench-secret",
                "SQLALCHEMY_DATABASE_URI": url,
                "LEADBRIDGE_RATELIMIT_ENABLED": False,
            }
        )
        with app.app_context():
            upgrade()
        pairing, batches = queued_batches(app, work, args.leads, 100)
        device_id = pairing["device_id"]
        schema = PushSchema()
        for batch in batches:
            with app.test_request_context():
                device = db.session.get_one(Device, device_id)
                push(device, schema.load({"mutations": batch})["mutations"])
                db.session.remove()
        profiler = cProfile.Profile() if args.profile else None
        cpu, wall, rows = 0.0, 0.0, 0
        for _ in range(args.rounds):
            cursor, more = 0, True
            while more:
                # One request's work: the tablet's device (its token check) and the page.
                with app.test_request_context():
                    device = db.session.get_one(Device, device_id)
                    started, began = time.process_time(), time.perf_counter()
                    if profiler:
                        profiler.enable()
                    page = pull(device, cursor, args.page)
                    body = encode_page(page)
                    if profiler:
                        profiler.disable()
                    cpu += time.process_time() - started
                    wall += time.perf_counter() - began
                    db.session.remove()
                assert body.startswith(b'{"changes":['), body[:40]
                rows += len(page["changes"])
                cursor, more = page["next_cursor"], page["has_more"]
        with app.app_context():
            db.engine.dispose()
    if profiler:
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.profile)
            print(out.getvalue(), file=sys.stderr)
    # Wall time includes the database server's work (PostgreSQL's is another process's CPU).
    print(f"wall time per pulled row {wall / rows * 1e6:.0f} us", file=sys.stderr)
    print(f"pull_profile rows={rows} page={args.page} cpu_us_per_row={cpu / rows * 1e6:.0f}")


if __name__ == "__main__":
    main()
