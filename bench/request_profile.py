"""Server CPU of one small sync request, in process: one-lead pushes and status requests.

    python bench/request_profile.py [--requests 300] [--warmup 30] [--profile 25]
        [--database-url postgresql://...] [--redis-url redis://127.0.0.1:6379/N]

Seeds the demo event and pairs a real tablet store (over loopback HTTP, once), fills it with
visitors and takes its queued creates. Each push request carries one of them, as the tablet
sends it (JSON body, bearer token, protocol header), and goes through the whole Flask app
(request hooks, rate limit, token look-up, push, commit, alert enqueue, access log written to
/dev/null); the status request likewise. The WSGI environ of each request is built outside the
timing; the app's handling of it is timed with time.process_time. With --database-url (a
PostgreSQL URL) the app runs in a fresh schema there, dropped at the end; with --redis-url
alert jobs and rate-limit counters go to Redis, as in production (the queue is emptied at the
end). With --profile N, a second round of the same requests runs under cProfile and its top N
entries (cumulative and own time) are printed to stderr. Last lines:

    request_profile kind=status requests=N cpu_us_per_request=N cpu_us_median=N
        statements_per_request=N [calls_per_request=N] database=...
    request_profile kind=push ... (the same figures)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

from bench.push_profile import queued_batches  # noqa: E402
from bench.serving import fresh_database  # noqa: E402
from server import create_app  # noqa: E402
from server.alerts.queue import alert_queue  # noqa: E402
from server.extensions import db  # noqa: E402
from server.ops.logs import configure_logging  # noqa: E402
from tests.peers import LOOPBACK_NETWORKS  # noqa: E402

PUSH = "/api/v1/sync/push"
STATUS = "/api/v1/sync/status"


def _environ(token: str, method: str, path: str, body: Any = None) -> dict[str, Any]:
    """Build the WSGI environ a tablet's request arrives as."""
    headers = {"Authorization": f"Bearer {token}", "Leadbridge-Protocol": "1"}
    if body is None:
        return EnvironBuilder(method=method, path=path, headers=headers).get_environ()
    data = json.dumps(body)
    return EnvironBuilder(
        method=method, path=path, headers=headers, data=data, content_type="application/json"
    ).get_environ()


def _handle(app: Flask, environ: dict[str, Any]) -> tuple[str, bytes]:
    """Run one request through the app as a WSGI server would; return its status and body."""
    status: list[str] = []

    def start_response(line: str, _headers: Any, _exc_info: Any = None) -> None:
        status.append(line)

    answer = app(environ, start_response)
    try:
        body = b"".join(answer)
    finally:
        close = getattr(answer, "close", None)
        if close is not None:
            close()
    return status[0], body


def _run(
    app: Flask, environs: list[dict[str, Any]], profiler: cProfile.Profile | None
) -> list[float]:
    """Handle each request in turn; return the CPU seconds each took."""
    cpu = []
    for environ in environs:
        started = time.process_time()
        if profiler:
            profiler.enable()
        status, body = _handle(app, environ)
        if profiler:
            profiler.disable()
        cpu.append(time.process_time() - started)
        if not status.startswith("200"):
            raise RuntimeError(f"{environ['PATH_INFO']} answered {status}: {body[:300]!r}")
        if environ["PATH_INFO"] == PUSH:
            outcomes = {result["outcome"] for result in json.loads(body)["results"]}
            if outcomes != {"applied"}:
                raise RuntimeError(f"push answered {body[:300]!r}")
    return cpu


def _print_profile(kind: str, profiler: cProfile.Profile, top: int) -> None:
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
        print(f"== {kind}, by {order}\n{out.getvalue()}", file=sys.stderr)


class _Figures(NamedTuple):
    cpu: list[float]  # seconds, one per timed request
    statements: int  # sent to the database by the timed requests
    profiler: cProfile.Profile | None


def _measure(
    app: Flask,
    make: Callable[[int], dict[str, Any]],
    counts: tuple[int, int, int],
    sent: list[int],
) -> _Figures:
    """Warm up, time `requests` requests, then profile as many more if asked.

    sent[0] counts the statements the app sends to its database.
    """
    warmup, requests, profiled = counts
    at = 0

    def batch(count: int) -> list[dict[str, Any]]:
        nonlocal at
        environs = [make(at + index) for index in range(count)]
        at += count
        return environs

    _run(app, batch(warmup), None)
    before = sent[0]
    cpu = _run(app, batch(requests), None)
    statements = sent[0] - before
    profiler = None
    if profiled:
        # CPU, not wall-clock: time spent waiting for the database is not the web's cost.
        profiler = cProfile.Profile(time.process_time)
        _run(app, batch(profiled), profiler)
    return _Figures(cpu, statements, profiler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests of each kind")
    parser.add_argument("--warmup", type=int, default=30, help="untimed requests first")
    parser.add_argument("--profile", type=int, default=0, help="print the top N entries")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL; SQLite if absent")
    parser.add_argument("--redis-url", default=None, help="alerts and rate limits in Redis")
    args = parser.parse_args()
    os.environ.setdefault("LEADBRIDGE_WEBHOOK_ALLOWED_NETWORKS", LOOPBACK_NETWORKS)
    profiled = args.requests if args.profile else 0
    counts = (args.warmup, args.requests, profiled)
    pushes = sum(counts)
    with (
        tempfile.TemporaryDirectory() as tmp,
        fresh_database(Path(tmp), args.database_url, "requests") as url,
    ):
        work = Path(tmp)
        settings: dict[str, Any] = {
            "SECRET_KEY": "bench-secret",
            "SQLALCHEMY_DATABASE_URI": url,
            # Limited as in production, by a limit the benchmark never reaches.
            "LEADBRIDGE_RATELIMIT_SYNC": "1000000 per minute",
            "LEADBRIDGE_ALERT_QUEUE": f"bench-{secrets.token_hex(4)}",
        }
        if args.redis_url:
            settings["LEADBRIDGE_REDIS_URL"] = args.redis_url
        app = create_app(settings)
        # The access log is written as in production, to nowhere.
        with open(os.devnull, "w") as devnull:
            configure_logging(app, devnull)
            with app.app_context():
                upgrade()
                engine = db.engine
            sent = [0]

            # Statements per request: the same on any machine, unlike its CPU.
            @event.listens_for(engine, "before_cursor_execute")
            def _count(*_args: Any) -> None:
                sent[0] += 1

            pairing, batches = queued_batches(app, work, pushes, 1)
            token = pairing["token"]
            figures = {}
            for kind, make in (
                ("status", lambda _at: _environ(token, "GET", STATUS)),
                ("push", lambda at: _environ(token, "POST", PUSH, {"mutations": batches[at]})),
            ):
                figures[kind] = _measure(app, make, counts, sent)
            if args.redis_url:
                with app.app_context():
                    alert_queue(app).delete(delete_jobs=True)
            with app.app_context():
                db.engine.dispose()
    database = "postgresql" if args.database_url else "sqlite"
    for kind, measured in figures.items():
        if measured.profiler:
            _print_profile(kind, measured.profiler, args.profile)
    for kind, measured in figures.items():
        cpu = measured.cpu
        # The median as well: other work on a shared machine stretches some requests.
        line = (
            f"request_profile kind={kind} requests={args.requests} "
            f"cpu_us_per_request={sum(cpu) / len(cpu) * 1e6:.0f} "
            f"cpu_us_median={statistics.median(cpu) * 1e6:.0f} "
            f"statements_per_request={measured.statements / args.requests:.1f}"
        )
        if measured.profiler:
            # Python calls per request, as counted by the profile: a figure no load changes.
            calls = pstats.Stats(measured.profiler).total_calls  # type: ignore[attr-defined]
            line += f" calls_per_request={calls / args.requests:.0f}"
        print(f"{line} database={database}")


if __name__ == "__main__":
    main()
