"""What the event home says, from the store's counters and sync bookkeeping."""

from __future__ import annotations

from datetime import UTC, datetime

from mobile import status

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
COUNTS = {"total": 40, "today": 12, "pending": 3, "rejected": 1, "outbox": 4}


def test_online_with_target() -> None:
    summary = status.home_summary(
        COUNTS,
        {"target_leads": 200},
        {"last_sync_at": "2026-11-23T11:55:00+00:00", "last_error": None, "unpaired": None},
        status.ONLINE,
        NOW,
    )
    assert (summary.today, summary.total, summary.progress) == (12, 40, 0.2)
    assert summary.target_text == "40 of 200 target (20%)"
    assert summary.connection_text == "Online"
    assert summary.waiting_text == "4 changes waiting to upload"
    assert summary.last_sync_text == "Last sync 11:55 (5 min ago)"
    assert summary.rejected_text == "1 lead needs correction"
    assert summary.error_text == ""


def test_offline_says_so_plainly_with_the_leads_waiting() -> None:
    unreachable = {"message": "Cannot reach the server (no connection)"}
    summary = status.home_summary(
        COUNTS,
        {},
        {"last_sync_at": "2026-11-23T11:59:40+00:00", "last_error": unreachable},
        status.OFFLINE,
        NOW,
    )
    assert summary.connection_text == "Offline: this tablet cannot reach the server"
    assert summary.waiting_text == "3 leads wait on this tablet and upload when the network is back"
    assert summary.last_sync_text == "Last reached the server 11:59 (just now)"
    assert summary.error_text == ""  # no "ConnectionError" beside it

    one = status.home_summary({"pending": 1, "outbox": 1}, {}, {}, status.OFFLINE, NOW)
    assert one.waiting_text == "1 lead waits on this tablet and uploads when the network is back"
    edits = status.home_summary({"pending": 0, "outbox": 2}, {}, {}, status.OFFLINE, NOW)
    assert edits.waiting_text.startswith("2 changes wait on this tablet")
    idle = status.home_summary({}, {}, {}, status.OFFLINE, NOW)
    assert idle.waiting_text == "Nothing waits to upload"


def test_offline_without_target_shows_a_server_error() -> None:
    summary = status.home_summary(
        {**COUNTS, "outbox": 0, "pending": 0, "rejected": 2},
        {},
        {"last_sync_at": None, "last_error": {"message": "503: Service Unavailable"}},
        status.OFFLINE,
        NOW,
    )
    assert summary.progress == 0 and "No lead target" in summary.target_text
    assert summary.connection_text.startswith("Offline")
    assert summary.waiting_text == "Nothing waits to upload"
    assert summary.last_sync_text == "Not synced yet"
    assert summary.rejected_text == "2 leads need correction"
    assert summary.error_text == "503: Service Unavailable"


def test_settings_name_the_tablet_and_its_event() -> None:
    pairing = {"device_id": 1, "event_id": 1}
    event = {"name": "Hannover Messe 2026"}
    assert (
        status.tablet_text(pairing, event, "Booth tablet 2")
        == "Paired as Booth tablet 2 for Hannover Messe 2026"
    )
    assert status.tablet_text(pairing, event, None) == "Paired for Hannover Messe 2026"
    assert status.tablet_text(pairing, {}, None) == "Paired for event 1"
    assert status.tablet_text(None, event, "Booth tablet 2") == "Not paired"


def test_revoked_wins_over_the_connection() -> None:
    summary = status.home_summary(COUNTS, {}, {"unpaired": "revoked"}, status.ONLINE, NOW)
    assert summary.connection == status.REVOKED and "unpaired" in summary.connection_text


def test_progress_is_capped() -> None:
    summary = status.home_summary({"total": 500}, {"target_leads": 100}, {}, status.ONLINE, NOW)
    assert summary.progress == 1.0 and summary.target_text.endswith("(500%)")


def test_ago() -> None:
    assert status.ago(None, NOW) == "never"
    assert status.ago("nonsense", NOW) == "never"
    assert status.ago("2026-11-23T11:59:30+00:00", NOW) == "just now"
    assert status.ago("2026-11-23T09:00:00+00:00", NOW) == "3 h ago"
    assert status.ago("2026-11-20T09:00:00+00:00", NOW) == "on 20 Nov"
    assert status.plural(1, "lead") == "1 lead" and status.plural(0, "lead") == "0 leads"


def test_the_booth_total_drives_progress_once_the_server_has_said() -> None:
    info = {"last_sync_at": None, "last_error": None, "unpaired": None}
    before = status.home_summary(COUNTS, {"target_leads": 200}, info, status.ONLINE, NOW)
    assert before.booth_text == "Whole booth: known after the first sync"
    assert before.target_text == "40 of 200 target (20%)"
    synced = {**info, "booth": {"total": 150, "today": 30}}
    after = status.home_summary(COUNTS, {"target_leads": 200}, synced, status.ONLINE, NOW)
    assert after.booth_text == "Whole booth: 150 leads, 30 today (at the last sync)"
    assert (after.total, after.progress) == (40, 0.75)
    assert after.target_text == "150 of 200 target (75%)"
