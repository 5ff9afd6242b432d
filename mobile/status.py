"""Put the store's counters and sync bookkeeping into the words the event home shows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sync.client import UNREACHABLE

ONLINE, OFFLINE, UNKNOWN, REVOKED = "online", "offline", "unknown", "revoked"


def plural(count: int, word: str) -> str:
    """Return '1 lead' or '3 leads'."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def ago(iso: str | None, now: datetime) -> str:
    """Return how long ago an ISO timestamp was, for people: 'just now', '5 min ago'."""
    if not iso:
        return "never"
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return "never"
    if moment.tzinfo is None or now.tzinfo is None:
        moment, now = moment.replace(tzinfo=None), now.replace(tzinfo=None)
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return moment.strftime("on %d %b")


def offline_waiting_text(counts: Mapping[str, int]) -> str:
    """Say how many leads (else changes) wait on an offline tablet, and that they will go up."""
    leads, changes = counts.get("pending", 0), counts.get("outbox", 0)
    count, word = (leads, "lead") if leads else (changes, "change")
    if not count:
        return "Nothing waits to upload"
    one = "s" if count == 1 else ""
    return (
        f"{plural(count, word)} wait{one} on this tablet and upload{one} when the network is back"
    )


def tablet_text(
    pairing: Mapping[str, Any] | None, event: Mapping[str, Any] | None, device_name: str | None
) -> str:
    """Say which tablet this is and for which event, by their names (Settings)."""
    if pairing is None:
        return "Not paired"
    event_name = (event or {}).get("name") or f"event {pairing['event_id']}"
    if device_name:
        return f"Paired as {device_name} for {event_name}"
    return f"Paired for {event_name}"


@dataclass(frozen=True)
class HomeSummary:
    """Everything the event home shows, as text and numbers."""

    today: int
    total: int
    progress: float  # 0..1 towards the event's target, 0 without a target
    target_text: str
    connection: str  # ONLINE, OFFLINE, UNKNOWN or REVOKED
    connection_text: str
    waiting_text: str
    last_sync_text: str
    rejected: int
    rejected_text: str
    error_text: str
    booth_text: str = ""


def home_summary(
    counts: Mapping[str, int],
    event: Mapping[str, Any] | None,
    sync_info: Mapping[str, Any],
    connection: str,
    now: datetime,
) -> HomeSummary:
    """Return the event home's figures from DeviceStore.counts() and sync_info()."""
    event = event or {}
    target = event.get("target_leads") or 0
    total = counts.get("total", 0)
    booth = sync_info.get("booth") or {}
    if booth:
        booth_text = (
            f"Whole booth: {plural(booth['total'], 'lead')}, {booth['today']} today "
            "(at the last sync)"
        )
    else:
        booth_text = "Whole booth: known after the first sync"
    # The target is the booth's, so progress counts every tablet once the server has said.
    booth_total = booth.get("total", total)
    if target:
        progress = min(1.0, booth_total / target)
        target_text = f"{booth_total} of {target} target ({round(100 * booth_total / target)}%)"
    else:
        progress, target_text = 0.0, "No lead target set for this event"
    if sync_info.get("unpaired"):
        connection = REVOKED
    connection_text = {
        ONLINE: "Online",
        OFFLINE: "Offline: this tablet cannot reach the server",
        UNKNOWN: "Connecting…",
        REVOKED: "This tablet was unpaired by the server: syncing stopped",
    }[connection]
    waiting = max(counts.get("outbox", 0), counts.get("pending", 0))
    waiting_text = (
        f"{plural(waiting, 'change')} waiting to upload" if waiting else "Everything uploaded"
    )
    offline = connection == OFFLINE
    if offline:
        waiting_text = offline_waiting_text(counts)
    last = sync_info.get("last_sync_at")
    if last:
        moment = datetime.fromisoformat(last)
        # Offline, "Last sync (just now)" reads as if syncing worked: say what it was.
        what = "Last reached the server" if offline else "Last sync"
        last_sync_text = f"{what} {moment.strftime('%H:%M')} ({ago(last, now)})"
    else:
        last_sync_text = "Not synced yet"
    rejected = counts.get("rejected", 0)
    rejected_text = (
        f"{plural(rejected, 'lead')} need{'s' if rejected == 1 else ''} correction"
        if rejected
        else ""
    )
    error = sync_info.get("last_error") or {}
    error_text = str(error.get("message") or "") if connection != ONLINE else ""
    if offline and error_text.startswith(UNREACHABLE):
        error_text = ""  # the connection line says it in plain words; a server error stays
    return HomeSummary(
        today=counts.get("today", 0),
        total=total,
        progress=progress,
        target_text=target_text,
        connection=connection,
        connection_text=connection_text,
        waiting_text=waiting_text,
        last_sync_text=last_sync_text,
        rejected=rejected,
        rejected_text=rejected_text,
        error_text=error_text,
        booth_text=booth_text,
    )
