"""The device-side sync package runs on a tablet without Flask, Kivy or the server code."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("flask", "kivy", "server", "sqlalchemy", "marshmallow")


def test_sync_imports_nothing_of_the_server_or_the_ui() -> None:
    script = (
        "import sys\n"
        "import sync.backoff, sync.client, sync.store, sync.worker\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""
