"""A private PostgreSQL cluster on a loopback port, which a fault test may restart at will.

The machine's own cluster serves everyone's test runs, so restarting it would break theirs;
this one is made with the same PostgreSQL binaries (initdb, pg_ctl), lives in a temporary
folder and is removed afterwards. As root, the binaries run as the `postgres` user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.serving import free_port

PG_ROOT = Path("/usr/lib/postgresql")


def postgres_bin() -> Path | None:
    """Return the newest installed PostgreSQL's bin folder, or None when there is none."""
    versions = sorted(
        (p for p in PG_ROOT.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions else None


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class Cluster:
    """A running private cluster."""

    bindir: Path
    datadir: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        """Return its URL (trust authentication on loopback, database postgres)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *args]),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1"
        self._ctl("-o", options, "-l", str(self.log), "-w", "start")

    def stop_fast(self) -> None:
        """Stop it the fast way: open sessions are cut, as in a database restart."""
        self._ctl("-m", "fast", "-w", "stop")

    def postmaster_pid(self) -> int:
        """Return the pid of the running postmaster."""
        return int((self.datadir / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        """Stop it immediately."""
        self._ctl("-m", "immediate", "-w", "stop")


@contextmanager
def private_postgres() -> Iterator[Cluster]:
    """Yield a fresh private cluster; stop and delete it afterwards."""
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL's binaries are not installed")
    top = Path(tempfile.mkdtemp(prefix="leadbridge-pg-"))
    try:
        top.chmod(0o755)
        datadir = top / "data"
        datadir.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(datadir, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [str(bindir / "initdb"), "-D", str(datadir), "-A", "trust", "-U", "postgres"]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        cluster = Cluster(bindir, datadir, free_port(), datadir / "server.log")
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(top, ignore_errors=True)
