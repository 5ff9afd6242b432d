"""Server CPU of the push's write side, in process: batches of a tablet's creates applied.

    python bench/push_profile.py [--leads 2000] [--batch 100] [--profile 25] [--database-url ...]

Seeds the demo event, pairs a real tablet store (over loopback HTTP, once), fills it with
visitors and takes its queued creates exactly as it would push them. Each batch is decoded
by the push schema outside the timing, then applied by `server.sync.push.push` (lock, apply,
receipts, versions, commit), timed by CPU. With --profile N, prints cProfile's top N entries
(cumulative and own time) of the same pushes. Last line:
push_profile leads=N batch=N cpu_us_per_lead=N
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from waitress.server import create_server  # noqa: E402

from bench.fakedata import visitor  # noqa: E402
from server import create_app  # noqa: E402
from server.devices.models import Device  # noqa: E402
from server.extensions import db  # noqa: E402
from server.seed import seed_demo  # noqa: E402
from server.sync.push import push  # noqa: E402
from server.sync.schemas import PushSchema  # noqa: E402
from sync.client import pair  # noqa: E402
from sync.store import DeviceStore  # noqa: E402
from tests.peers import LOOPBACK_NETWORKS  # noqa: E402


def queued_batches(
    app: Any, work: Path, leads: int, size: int
) -> tuple[dict[str, Any], list[list[dict[str, Any]]]]:
    """Pair a tablet, fill it with visitors; return its pairing and its queue in batches."""
    with app.app_context():
        code = seed_demo().pairing_code
    server = create_server(app, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    tablet = DeviceStore(work / "tablet.sqlite3")
    try:
        pairing = pair(tablet, f"http://127.0.0.1:{server.effective_port}", code, "Profile tablet")
    finally:
        server.close()
        thread.join(timeout=5)
    staff_id = next(m["id"] for m in tablet.members() if m["role"] == "staff")
    rng = random.Random(7)
    for index in range(leads):
        tablet.save_lead(visitor(rng, index, staff_id))
    queued = tablet.pending_mutations(leads)
    tablet.close()
    # What the tablet sends is JSON: the same round trip its body makes.
    queued = json.loads(json.dumps(queued, default=str))
    return pairing, [queued[at : at + size] for at in range(0, len(queued), size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--profile", type=int, default=0, help="print the top N entries")
    parser.add_argument("--database-url", default=None, help="SQLAlchemy URL; SQLite if absent")
    args = parser.parse_args()
    import os

    os.environ.setdefault("LEADBRIDGE_WEBHOOK_ALLOWED_NETWORKS", LOOPBACK_NETWORKS)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = args.database_url or f"sqlite:///{work / 'server.sqlite3'}"
        app = create_app(
            {
                "SECRET_KEY": "bench-secret",
                "SQLALCHEMY_DATABASE_URI": url,
                "LEADBRIDGE_RATELIMIT_ENABLED": False,
            }
        )
        with app.app_context():
            upgrade()
        pairing, batches = queued_batches(app, work, args.leads, args.batch)
        device_id = pairing["device_id"]
        schema = PushSchema()
        bodies = [schema.load({"mutations": batch})["mutations"] for batch in batches]
        profiler = cProfile.Profile() if args.profile else None
        cpu = 0.0
        for body in bodies:
            with app.test_request_context():
                device = db.session.get_one(Device, device_id)
                started = time.process_time()
                if profiler:
                    profiler.enable()
                answer = push(device, body)
                if profiler:
                    profiler.disable()
                cpu += time.process_time() - started
                db.session.remove()
            assert all(r["outcome"] == "applied" for r in answer["results"]), answer
        with app.app_context():
            db.engine.dispose()
    if profiler:
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.profile)
            print(out.getvalue(), file=sys.stderr)
    print(
        f"push_profile leads={args.leads} batch={args.batch} "
        f"cpu_us_per_lead={cpu / args.leads * 1e6:.0f}"
    )


if __name__ == "__main__":
    main()
