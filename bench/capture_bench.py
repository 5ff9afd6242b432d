"""Capture from real badges and cards: attendee look-up on the tablet, list import on the server.

    python bench/capture_bench.py [--attendees 100000] [--import-rows 200000]
        [--database-url postgresql://...@127.0.0.1/test] [--cards 60] [--card-baseline]

Attendees: a tablet store receives --attendees sealed attendees through its pull path
(apply_pull_page), then scanned badges (ids, prefixed ids, badge URLs, one in ten not
on the list) are looked up as the capture screen does; the baseline, measured in the
same run on the same file, is the bare indexed SELECT of the same keys. Import: the
server imports an organiser's CSV of --import-rows rows with the code the web page's
job runs (run_import), then the same file again (every row unchanged); the baseline is
SQLAlchemy Core executemany of the same rows into a bare table of the same columns.

Business cards (cards, fields_right_pct, ocr_p50_ms): bench/cards.py renders --cards
photographed cards with their truth and reads them with the server's OCR; --card-baseline
also reads them with Tesseract, the engine it was chosen over (docs/business-cards.md).
the last line gives every figure in FIGURES order:
capture_bench attendees=N lookup_p99_ms=N import_rows_per_s=N cards=N fields_right_pct=N
ocr_p50_ms=N
"""

from __future__ import annotations

import argparse
import csv
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.baselines import executemany_rate  # noqa: E402
from bench.percentiles import percentile  # noqa: E402
from bench.serving import fresh_database  # noqa: E402
from sync.attendees import lookup_text  # noqa: E402
from sync.store import DeviceStore  # noqa: E402

FIGURES = (
    "attendees",
    "lookup_p99_ms",
    "import_rows_per_s",
    "cards",
    "fields_right_pct",
    "ocr_p50_ms",
)
RULES = {"prefix": "REG-", "url_pattern": "https://reg.example.com/b/{id}"}
PAGE = 1000  # attendee changes per pull page, as the server sends them
FIRST = ("Ann", "Bea", "Chloé", "Dmitri", "Émile", "Farah", "Günter", "Hana", "Iñigo", "Jun")
LAST = ("Example", "Müller", "Nguyen", "O'Brien", "Østergaard", "Smith", "Yılmaz", "Zhou")


def _person(index: int) -> dict[str, Any]:
    return {
        "badge_id": str(100000 + index),
        "first_name": FIRST[index % len(FIRST)],
        "last_name": f"{LAST[index % len(LAST)]}{index}",
        "email": f"visitor{index}@company{index % 997}.example.com",
        "phone": f"030 {2000000 + index}",
        "company": f"Company {index % 997} GmbH",
        "job_title": "Head of Purchasing",
        "country": "DE",
    }


# -- attendees on the tablet ----------------------------------------------------------------


def _fill_tablet(store: DeviceStore, count: int) -> float:
    """Pull count attendees into store page by page; return the seconds it took."""
    store.apply_pull_page(
        [{"kind": "event", "version": 1, "data": {"id": 1, "badge_rules": RULES}}], 1
    )
    version = 1
    started = time.perf_counter()
    for first in range(0, count, PAGE):
        changes = []
        for index in range(first, min(count, first + PAGE)):
            version += 1
            data = {"id": index + 1, "removed": False, **_person(index)}
            changes.append({"kind": "attendee", "version": version, "data": data})
        store.apply_pull_page(changes, version)
    return time.perf_counter() - started


def _scans(rng: random.Random, count: int, attendees: int) -> list[tuple[str, bool]]:
    """Return (badge text, on the list) as scanned at the booth: ids, prefixed ids, URLs."""
    scans = []
    for _ in range(count):
        if rng.random() < 0.1:
            scans.append((f"REG-{900000 + rng.randrange(10**5)}", False))
            continue
        badge_id = str(100000 + rng.randrange(attendees))
        form = rng.randrange(3)
        text = (badge_id, f"REG-{badge_id}", f"https://reg.example.com/b/{badge_id}?src=qr")[form]
        scans.append((text, True))
    return scans


def _lookups(
    store: DeviceStore, scans: list[tuple[str, bool]], cpu: list[float] | None = None
) -> list[float]:
    """Return each look-up's wall time; append its CPU time to cpu (a busy machine's view)."""
    timings = []
    for text, listed in scans:
        began, began_cpu = time.perf_counter(), time.thread_time()
        found = store.find_attendee(text)
        timings.append(time.perf_counter() - began)
        if cpu is not None:
            cpu.append(time.thread_time() - began_cpu)
        assert (found is not None) == listed, (text, found)
    return timings


def _bare_lookups(path: Path, store: DeviceStore, scans: list[tuple[str, bool]]) -> list[float]:
    """Time the indexed SELECT alone (keys computed beforehand), on a second connection."""
    keys = []
    for text, _ in scans:
        badge_id = text.removeprefix("REG-").split("/b/")[-1].split("?")[0]
        keys.append(store._cipher.blind_index(lookup_text(badge_id)))
    conn = sqlite3.connect(path)
    timings = []
    for key in keys:
        began = time.perf_counter()
        conn.execute("SELECT data FROM attendees WHERE lookup = ? LIMIT 1", (key,)).fetchone()
        timings.append(time.perf_counter() - began)
    conn.close()
    return timings


def attendee_lookups(work: Path, count: int, samples: int) -> dict[str, float]:
    """Return the tablet's look-up figures with count sealed attendees."""
    path = work / "tablet.sqlite3"
    store = DeviceStore(path)
    fill_seconds = _fill_tablet(store, count)
    assert store.attendee_count() == count
    scans = _scans(random.Random(16), samples, count)
    _lookups(store, scans[:200])  # warm the page cache, as a tablet in use has it
    cpu: list[float] = []
    timings = _lookups(store, scans, cpu)
    bare = _bare_lookups(path, store, scans)
    store.close()
    return {
        "fill_rows_per_s": count / fill_seconds,
        "lookup_p50_ms": percentile(timings, 0.5) * 1000,
        "lookup_p99_ms": percentile(timings, 0.99) * 1000,
        "lookup_cpu_p99_ms": percentile(cpu, 0.99) * 1000,
        "bare_p99_ms": percentile(bare, 0.99) * 1000,
    }


# -- the server's import ----------------------------------------------------------------------


HEADERS = ["Badge", "First name", "Last name", "Email", "Phone", "Company", "Title", "Country"]
MAPPING = {
    "badge_id": "Badge",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "company": "Company",
    "job_title": "Title",
    "country": "Country",
}


def _write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADERS)
        for index in range(rows):
            person = _person(index)
            person["badge_id"] = "REG-" + person["badge_id"]
            writer.writerow([person[field] for field in MAPPING])


def _run_import(app: Any, event_id: int, work: Path, source: Path) -> tuple[float, dict[str, Any]]:
    import shutil

    from server.attendees.importing import run_import
    from server.attendees.jobs import upload_dir
    from server.attendees.models import AttendeeImport, ImportStatus
    from server.extensions import db

    with app.app_context():
        job = AttendeeImport(
            event_id=event_id,
            filename=source.name,
            file_format="csv",
            stored_name=f"bench-{time.monotonic_ns()}",
            mapping=MAPPING,
            status=ImportStatus.RUNNING,
        )
        db.session.add(job)
        db.session.commit()
        shutil.copyfile(source, upload_dir(app) / job.stored_name)
        started, cpu = time.perf_counter(), time.process_time()
        run_import(job.id, upload_dir(app))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        job = db.session.get_one(AttendeeImport, job.id)
        assert job.status == ImportStatus.DONE, job.error
        counts = {
            "inserted": job.inserted,
            "updated": job.updated,
            "unchanged": job.unchanged,
            "cpu_seconds": cpu,
        }
        db.session.remove()
    return elapsed, counts


def _bare_insert_rate(app: Any, target_url: str) -> float:
    """Copy the imported rows into a bare table of the same columns with one executemany."""
    from server.attendees.models import Attendee
    from server.extensions import db

    with app.app_context():
        rows = [dict(row._mapping) for row in db.session.execute(sa.select(Attendee.__table__))]
    return executemany_rate(Attendee.__table__, rows, target_url)


def server_import(work: Path, rows: int, database_url: str | None) -> dict[str, float]:
    """Return the server's import figures for a CSV of rows attendees."""
    from datetime import date

    from flask_migrate import upgrade

    from server import create_app
    from server.events.models import Event
    from server.extensions import db

    source = work / "registrations.csv"
    _write_csv(source, rows)
    with fresh_database(work, database_url, "server") as server_db:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": server_db,
                "SECRET_KEY": "bench-secret",
                "LEADBRIDGE_RATELIMIT_ENABLED": False,
            }
        )
        app.instance_path = str(work / "instance")
        with app.app_context():
            upgrade()
            event = Event(
                name="Bench Expo",
                starts_on=date(2026, 11, 23),
                ends_on=date(2026, 11, 25),
                timezone="Europe/Berlin",
                country="DE",
                questions=[],
                products=[],
                rubric={},
                badge_rules=RULES,
                server_version=1,
            )
            db.session.add(event)
            db.session.commit()
            event_id = event.id
        first, counts = _run_import(app, event_id, work, source)
        assert counts["inserted"] == rows, counts
        first_cpu = counts["cpu_seconds"]
        again, counts = _run_import(app, event_id, work, source)
        assert counts["unchanged"] == rows, counts
        with fresh_database(work, database_url, "bare") as bare_db:
            bare = _bare_insert_rate(app, bare_db)
        with app.app_context():
            db.engine.dispose()
    return {
        "import_rows_per_s": rows / first,
        "import_rows_per_cpu_s": rows / first_cpu,
        "reimport_rows_per_s": rows / again,
        "bare_insert_rows_per_s": bare,
    }


# -- business cards -----------------------------------------------------------------------------


def card_figures(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Return cards, fields_right_pct and ocr_p50_ms of the card benchmark (bench/cards.py)."""
    from bench import cards

    figures = cards.card_figures(args.cards, args.card_baseline, out=sys.stderr)
    return {
        "cards": args.cards,
        "fields_right_pct": f"{figures['fields_right_pct']:.1f}",
        "ocr_p50_ms": f"{figures['ocr_p50_ms']:.0f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attendees", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=5000, help="badges scanned")
    parser.add_argument("--import-rows", type=int, default=200_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL; SQLite if absent")
    parser.add_argument("--cards", type=int, default=60, help="business cards rendered and read")
    parser.add_argument(
        "--card-baseline", action="store_true", help="also read the cards with Tesseract"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        lookups = attendee_lookups(work, args.attendees, args.lookups)
        imports = server_import(work, args.import_rows, args.database_url)
        cards = card_figures(args, work)
    print(
        f"attendees: tablet filled at {lookups['fill_rows_per_s']:.0f} rows/s by pull pages;"
        f" look-up p50 {lookups['lookup_p50_ms']:.2f} ms, p99 {lookups['lookup_p99_ms']:.2f} ms"
        f" (CPU p99 {lookups['lookup_cpu_p99_ms']:.2f} ms)"
        f" (bare indexed SELECT p99 {lookups['bare_p99_ms']:.3f} ms);"
        f" import of {args.import_rows} CSV rows {imports['import_rows_per_s']:.0f} rows/s"
        f" ({imports['import_rows_per_cpu_s']:.0f} per CPU second),"
        f" unchanged re-import {imports['reimport_rows_per_s']:.0f} rows/s"
        f" (bare executemany {imports['bare_insert_rows_per_s']:.0f} rows/s)",
        file=sys.stderr,
    )
    figures: dict[str, Any] = {
        "attendees": args.attendees,
        "lookup_p99_ms": f"{lookups['lookup_p99_ms']:.2f}",
        "import_rows_per_s": f"{imports['import_rows_per_s']:.0f}",
        **cards,
    }
    print(
        "capture_bench "
        + " ".join(f"{name}={figures[name]}" for name in FIGURES if name in figures)
    )


if __name__ == "__main__":
    main()
