"""CPU time by kind of process over part of a benchmark run, from Linux's /proc.

A snapshot reads every process's user + system time (with that of its waited-for children,
so a backend or a forked job that ended is still counted under its parent) and sorts it
into kinds: the web server's process tree, the alert workers', this process (the
simulator), PostgreSQL, Redis, and everything else on the machine. Two snapshots give the
CPU each kind used in between; what /proc/stat says the machine used besides is "other".
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

KINDS = ("web", "worker", "simulator", "postgres", "redis", "other")
_TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, int] | None:
    """Return (command name, parent pid, CPU ticks including reaped children) of pid."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text.rsplit(")", 1)[1].split()
    # fields[0] is the state; utime, stime, cutime, cstime are fields 14-17 of stat(5).
    return name, int(fields[1]), sum(int(value) for value in fields[11:15])


def _machine_ticks() -> int:
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4]


@dataclass(frozen=True)
class Snapshot:
    """CPU ticks of every process by pid and kind, and the machine's busy ticks."""

    ticks: dict[int, tuple[str, int]]
    machine: int


def snapshot(web: Iterable[int], workers: Iterable[int]) -> Snapshot:
    """Read every process now; web and workers are the roots of those two kinds' trees."""
    roots = {pid: "web" for pid in web} | {pid: "worker" for pid in workers}
    roots[os.getpid()] = "simulator"
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            stats[int(entry)] = stat

    def kind(pid: int) -> str:
        seen = pid
        while seen in stats and seen not in roots:
            seen = stats[seen][1]
        if seen in roots:
            return roots[seen]
        name = stats[pid][0]
        if name.startswith("postgres"):
            return "postgres"
        return "redis" if name.startswith("redis-server") else "other"

    return Snapshot({pid: (kind(pid), stat[2]) for pid, stat in stats.items()}, _machine_ticks())


def cpu_ms_by_kind(start: Snapshot, end: Snapshot) -> dict[str, float]:
    """Return the CPU ms each kind used from start to end; "other" is the machine's rest."""
    used = dict.fromkeys(KINDS, 0.0)
    for pid, (kind, ticks) in end.ticks.items():
        before = start.ticks.get(pid)
        used[kind] += (ticks - (before[1] if before else 0)) * _TICK_MS
    counted = sum(value for name, value in used.items() if name != "other")
    used["other"] = max(0.0, (end.machine - start.machine) * _TICK_MS - counted)
    return used
