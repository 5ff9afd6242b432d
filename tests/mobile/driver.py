"""Run the tablet app in a real window and drive one UI scenario (a subprocess of the tests).

    python -m tests.mobile.driver SCENARIO --store PATH --shots DIR --result FILE
        [--server URL --code CODE --staff NAME --badge TEXT]  (auth header in LEADBRIDGE_TEST_AUTH)

Kivy keeps global state for the life of a process, so every scenario gets its own.
The result file holds {"error": null or a traceback, "shots": [...], ...}.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

HANG_LIMIT = 90  # seconds


def main() -> int:
    """Start the app with the scenario running from its clock."""
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario")
    parser.add_argument("--store", required=True)
    parser.add_argument("--shots", required=True)
    parser.add_argument("--result", required=True)
    parser.add_argument("--server")
    parser.add_argument("--code")
    parser.add_argument("--staff")
    parser.add_argument("--badge", help="a badge's text for the scenario to scan")
    parser.add_argument("--photo", help="an image file the camera sees (a business card)")
    parser.add_argument("--lead", help="the id of a lead the scenario opens")
    args = parser.parse_args()
    # A scenario bounds each wait itself; this catches a hang outside them, with stacks.
    faulthandler.dump_traceback_later(HANG_LIMIT, exit=True)

    from mobile.__main__ import configure_kivy

    configure_kivy()
    from mobile.app import LeadBridgeApp
    from mobile.scanning import QueueFrameSource
    from tests.mobile.relay import Relay
    from tests.mobile.scenarios import SCENARIOS, Context
    from tests.mobile.ui import UI, Runner

    relay = None
    if args.server:
        upstream = urlsplit(args.server)
        relay = Relay(upstream.hostname, upstream.port)
        relay.start()
    # Short sync delays keep the scenario quick; the behaviour is the same as on a tablet.
    app = LeadBridgeApp(
        args.store,
        server_url="http://127.0.0.1:9",
        frame_source=QueueFrameSource(),
        sync_debounce=0.3,
        probe_every=0.5,
    )
    ui = UI(app, Path(args.shots))
    options = {
        "server": args.server,
        "code": args.code,
        "staff": args.staff,
        "badge": args.badge,
        "photo": args.photo,
        "lead": args.lead,
        "auth": os.environ.get("LEADBRIDGE_TEST_AUTH", ""),
    }
    ctx = Context(app=app, ui=ui, options=options, relay=relay)
    outcome: dict[str, object] = {"error": "the app stopped before the scenario ended"}

    def ended(error: str | None) -> None:
        outcome["error"] = error
        app.stop()

    runners: list[Runner] = []  # Kivy's clock holds callbacks weakly: keep the runner alive

    def start(*_args: object) -> None:
        runners.append(Runner(app, SCENARIOS[args.scenario](ctx), ended))

    app.bind(on_start=start)
    try:
        app.run()
    finally:
        if relay is not None:
            relay.stop()
    outcome.update(ctx.result, shots=ui.taken)
    Path(args.result).write_text(json.dumps(outcome, indent=2), encoding="utf-8")
    return 0 if outcome["error"] is None else 1


if __name__ == "__main__":
    sys.exit(main())
