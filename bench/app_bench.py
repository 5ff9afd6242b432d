"""Tablet app speed in a real window: cold start, save-to-ready, and list scrolling at 20,000 leads.

    python bench/app_bench.py [--leads 20000] [--saves 200] [--flings 10]

Runs under Xvfb (re-executes itself with xvfb-run when DISPLAY is unset). The store is
pre-paired (to a closed port: the sync thread keeps failing and retrying, as on a
tablet without network) and holds --leads leads, made once with DeviceStore.save_lead
and cached in artifacts/bench/.

- cold_start_s: wall time from spawning the app process to the first frame of the event
  home on screen (the child stamps the time in the window's first on_flip after the home
  screen is entered); median of three starts.
- save_to_ready_p99_ms: tap Save lead on a filled form, until the frame showing the
  cleared form is on screen.
- list_frame_p99_ms: time between frames while a script scrolls the lead list: --flings
  flings spread from its top to its bottom (each a jump there, as when dragging the
  scroll bar, then 150 frames at 4 rows a frame, a hard fling of ~20,000 px/s).
- first_search_ms: the first search after opening the store (it builds the in-memory
  search index from the sealed search texts), median of three fresh opens.
- page_ms, store_save_ms: the store alone, without the UI: reading one 50-lead page of the
  list (median over pages spread through the list) and DeviceStore.save_lead (median of 50).

Personal-data columns are sealed with AES-GCM (sync/crypto.py). To show what that costs,
the save, list and first-search measurements run twice in the same run: on a sealed
store (the app as shipped) and on the same leads stored in the clear (NullCipher,
benchmark only); the *_plain fields are the baseline.

Last line:
app_bench cold_start_s=N save_to_ready_p99_ms=N list_frame_p99_ms=N leads=N
 first_search_ms=N page_ms=N store_save_ms=N save_to_ready_p99_ms_plain=N
 list_frame_p99_ms_plain=N first_search_ms_plain=N page_ms_plain=N store_save_ms_plain=N
(one line)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CACHE = ROOT / "artifacts" / "bench"
STAFF_ID = 5
ROWS_PER_FRAME = 4
FLING_FRAMES = 150
EVENT: dict[str, Any] = {
    "id": 1,
    "name": "Bench Expo 2026",
    "venue": "Hall 4",
    "booth": "C12",
    "timezone": "Europe/Berlin",
    "country": "DE",
    "target_leads": 25000,
    "consent_text": "You may contact me about products shown at this event.",
    "consent_version": 1,
    "server_version": 1,
    "questions": [
        {"id": "budget", "label": "Budget confirmed?", "type": "yes_no", "required": True},
        {
            "id": "timeframe",
            "label": "When do they buy?",
            "type": "single_choice",
            "options": ["This quarter", "This year", "Later"],
        },
        {
            "id": "role",
            "label": "Role in the decision",
            "type": "single_choice",
            "options": ["Decision maker", "Influencer", "User"],
        },
        {"id": "seats", "label": "Seats", "type": "number"},
    ],
    "products": [
        {"id": "scanner", "name": "Scanner"},
        {"id": "crm-sync", "name": "CRM sync"},
        {"id": "analytics", "name": "Analytics"},
    ],
    "members": [
        {"user_id": STAFF_ID, "user": {"id": STAFF_ID, "name": "Sam Booth", "role": "staff"}}
    ],
}


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which fraction of values lie (nearest rank)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


# -- the parent: data, children, report --------------------------------------------------


def _key_of(path: Path) -> Path:
    from sync.keystore import key_path_for

    return key_path_for(path)


def cached_store(leads: int, sealed: bool = True) -> Path:
    """Return a store file holding leads leads, making and caching it the first time.

    A sealed store's key file is cached beside it; a plain one is written with NullCipher.
    """
    from bench.fakedata import visitor
    from sync.crypto import NullCipher
    from sync.store import DeviceStore

    path = CACHE / f"store-{leads}-{'sealed' if sealed else 'plain'}.sqlite3"
    if path.exists() and (not sealed or _key_of(path).exists()):
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    _key_of(building).unlink(missing_ok=True)
    rng = random.Random(2026)
    started = time.perf_counter()
    with DeviceStore(building, cipher=None if sealed else NullCipher()) as store:
        store.set_pairing("http://127.0.0.1:9", 99, EVENT["id"], "lbd_bench", EVENT)
        for index in range(leads):
            store.save_lead(visitor(rng, index, STAFF_ID))
    # Fold the WAL into the file so one copy carries everything.
    import sqlite3

    with sqlite3.connect(building) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if sealed:
        _key_of(building).replace(_key_of(path))
    building.replace(path)
    print(f"made {leads} leads in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path


def fresh_copy(source: Path, workdir: Path, name: str) -> Path:
    """Copy the cached store (and its settings) for one child to change."""
    target = workdir / f"{name}.sqlite3"
    shutil.copyfile(source, target)
    if _key_of(source).exists():
        shutil.copyfile(_key_of(source), _key_of(target))
        _key_of(target).chmod(0o600)
    target.with_name(f"{name}.settings.json").write_text(
        json.dumps({"staff_id": STAFF_ID, "staff_name": "Sam Booth", "kiosk": False})
    )
    return target


def run_child(*args: str) -> tuple[float, dict[str, Any]]:
    """Spawn a child of this script; return when it was spawned and its JSON answer."""
    env = {**os.environ, "KIVY_NO_ARGS": "1"}
    started = time.time()
    completed = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0 or not lines:
        sys.stderr.write(completed.stderr[-4000:])
        raise SystemExit(f"child {args[0]} failed with exit {completed.returncode}")
    return started, json.loads(lines[-1])


def main() -> int:
    """Measure and print the report line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=20000)
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--flings", type=int, default=10)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--child", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    if not os.environ.get("DISPLAY"):
        if not shutil.which("xvfb-run"):
            raise SystemExit("needs a display: install xvfb (apt-get install xvfb xauth)")
        command = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", sys.executable, *sys.argv]
        return subprocess.run(command, check=False).returncode

    source = cached_store(args.leads)
    plain_source = cached_store(args.leads, sealed=False)
    with tempfile.TemporaryDirectory(prefix="app_bench-") as tmp:
        workdir = Path(tmp)
        starts = []
        for number in range(args.starts):
            store = fresh_copy(source, workdir, f"cold{number}")
            spawned, answer = run_child("cold", str(store))
            starts.append(answer["home_drawn"] - spawned)
            print(f"cold start {number + 1}: {starts[-1]:.3f} s", file=sys.stderr)
        costs = {
            sealed: [
                store_costs(fresh_copy(origin, workdir, f"costs{sealed}{n}"), sealed)
                for n in range(3)
            ]
            for sealed, origin in ((True, source), (False, plain_source))
        }
        store = fresh_copy(source, workdir, "use")
        _, answer = run_child("use", str(store), str(args.saves), str(args.flings))
        store = fresh_copy(plain_source, workdir, "use-plain")
        _, plain = run_child("use-plain", str(store), str(args.saves), str(args.flings))
    for label, result in (("sealed", answer), ("plain", plain)):
        saves, frames = result["save_ms"], result["frame_ms"]
        print(
            f"{label}: saves: {len(saves)}, median {statistics.median(saves):.1f} ms;"
            f" frames: {len(frames)} over {result['rows_scrolled']} rows,"
            f" median {statistics.median(frames):.1f} ms",
            file=sys.stderr,
        )
    print(
        f"app_bench cold_start_s={statistics.median(starts):.2f}"
        f" save_to_ready_p99_ms={percentile(answer['save_ms'], 0.99):.1f}"
        f" list_frame_p99_ms={percentile(answer['frame_ms'], 0.99):.1f}"
        f" leads={args.leads}"
        f" {_costs_fields(costs[True], '')}"
        f" save_to_ready_p99_ms_plain={percentile(plain['save_ms'], 0.99):.1f}"
        f" list_frame_p99_ms_plain={percentile(plain['frame_ms'], 0.99):.1f}"
        f" {_costs_fields(costs[False], '_plain')}"
    )
    return 0


def store_costs(path: Path, sealed: bool) -> dict[str, float]:
    """Open a store; time its first search, reading list pages and saving leads (ms)."""
    from bench.fakedata import visitor
    from sync.crypto import NullCipher
    from sync.store import DeviceStore

    with DeviceStore(path, cipher=None if sealed else NullCipher()) as store:
        started = time.perf_counter()
        store.search_leads("zz")
        first_search = (time.perf_counter() - started) * 1000
        total = store.counts()["total"]
        pages = []
        for offset in range(0, total, max(50, total // 40)):
            started = time.perf_counter()
            store.search_leads(limit=50, offset=offset)
            pages.append((time.perf_counter() - started) * 1000)
        rng, saves = random.Random(11), []
        for index in range(50):
            lead = visitor(rng, 200_000 + index, STAFF_ID)
            started = time.perf_counter()
            store.save_lead(lead)
            saves.append((time.perf_counter() - started) * 1000)
    return {
        "first_search_ms": first_search,
        "page_ms": statistics.median(pages),
        "store_save_ms": statistics.median(saves),
    }


def _costs_fields(runs: list[dict[str, float]], suffix: str) -> str:
    """Return the store cost fields (median of runs) for the last line."""
    return " ".join(
        f"{name}{suffix}={statistics.median(run[name] for run in runs):.2f}"
        for name in ("first_search_ms", "page_ms", "store_save_ms")
    )


# -- the children: the app itself -----------------------------------------------------------


def child(argv: list[str]) -> int:
    """Run the app for one measurement and print a JSON answer."""
    from mobile.__main__ import configure_kivy

    configure_kivy()
    from kivy.clock import Clock
    from kivy.core.window import Window

    from mobile.app import LeadBridgeApp

    mode, store = argv[0], argv[1]
    if mode == "use-plain":
        # The baseline: the same app on a store kept in the clear.
        import functools

        import mobile.app
        from sync.crypto import NullCipher
        from sync.store import DeviceStore

        mobile.app.DeviceStore = functools.partial(DeviceStore, cipher=NullCipher())  # type: ignore[misc]
    app = LeadBridgeApp(store)
    answer: dict[str, Any] = {}
    script = [cold_script] if mode == "cold" else [use_script]  # use, use-plain
    steps = script[0](app, Window, answer, *argv[2:])

    def advance(*_args: Any) -> None:
        try:
            next(steps)
        except StopIteration:
            Window.unbind(on_flip=advance)
            Clock.schedule_once(lambda _dt: app.stop())

    # Every step of a script runs right after a frame reached the screen.
    Window.bind(on_flip=advance)
    app.run()
    print(json.dumps(answer), flush=True)
    return 0


def cold_script(app: Any, window: Any, answer: dict[str, Any]) -> Any:
    """Stamp the first frame drawn with the home screen showing."""
    while app.root is None or app.root.ids.screens.current != "home":
        yield
    yield  # the frame in which home was entered has now been flipped
    answer["home_drawn"] = time.time()


def use_script(app: Any, window: Any, answer: dict[str, Any], saves: str, flings: str) -> Any:
    """Save leads one after another, then fling down the lead list."""
    from kivy.tests.common import UnitTestTouch

    from bench.fakedata import visitor

    while app.root is None or app.root.ids.screens.current != "home":
        yield
    app.go("capture")
    for _ in range(10):
        yield
    screen = app.root.ids.screens.get_screen("capture")
    form = screen.ids.form
    rng = random.Random(7)
    save_ms: list[float] = []
    for index in range(int(saves)):
        lead = visitor(rng, 100_000 + index, STAFF_ID)
        values = {key: lead[key] for key in ("first_name", "last_name", "email", "phone")}
        values["company"] = lead["company"]
        values["answers.budget"] = lead["answers"]["budget"]
        values["rating"] = lead["rating"]
        form.set_values(values)
        yield
        button = screen.ids.save_button
        touch = UnitTestTouch(*button.to_window(*button.center))
        started = time.perf_counter()
        touch.touch_down()
        touch.touch_up()
        yield  # the frame with the cleared form is on screen
        save_ms.append((time.perf_counter() - started) * 1000)
        if form.values()["first_name"]:
            raise RuntimeError(f"save {index} did not clear the form: {screen.message}")
    answer["save_ms"] = save_ms

    app.go("leads")
    for _ in range(10):
        yield
    listing = app.root.ids.screens.get_screen("leads").ids.list
    row = listing.layout_manager.default_size[1]
    rows = len(listing.data)
    if rows < app.store.counts()["total"]:
        raise RuntimeError(f"the list holds {rows} rows, not every lead")
    scrollable = rows * row - listing.height
    fling = ROWS_PER_FRAME * FLING_FRAMES * row
    count = int(flings)
    frame_ms: list[float] = []
    scrolled = 0.0
    last = time.perf_counter()
    for number in range(count):
        # Each fling starts further down, the last one ending at the bottom.
        offset = (scrollable - fling) * number / max(1, count - 1)
        for _ in range(FLING_FRAMES + 1):
            listing.scroll_y = max(0.0, 1 - offset / scrollable)
            yield
            now = time.perf_counter()
            frame_ms.append((now - last) * 1000)
            last = now
            offset += ROWS_PER_FRAME * row
            scrolled += ROWS_PER_FRAME
    answer["frame_ms"] = frame_ms[1:]  # the first interval includes the switch of screens
    answer["rows_scrolled"] = round(scrolled)


if __name__ == "__main__":
    sys.exit(main())
