"""Laying the stats' hourly figures out as chart columns, in the event's time zone."""

from __future__ import annotations

from server.web.charts import MAX_HOURS, hour_columns


def test_empty_hours_between_busy_ones_become_empty_columns() -> None:
    per_hour = [
        {"hour": "2026-03-10T09:00:00+01:00", "leads": 4},
        {"hour": "2026-03-10T12:00:00+01:00", "leads": 7},
    ]
    columns = hour_columns(per_hour, "Europe/Berlin")
    assert [(column["hour"], column["leads"]) for column in columns] == [
        ("09:00", 4),
        ("10:00", 0),
        ("11:00", 0),
        ("12:00", 7),
    ]
    assert columns[0]["day"] == "Tue 10 Mar"
    assert [column["day"] for column in columns[1:]] == [None, None, None]


def test_a_clock_change_keeps_one_column_per_real_hour() -> None:
    # Berlin leaves summer time at 03:00 on 25 October 2026: 02:00 happens twice.
    per_hour = [
        {"hour": "2026-10-25T01:00:00+02:00", "leads": 1},
        {"hour": "2026-10-25T02:00:00+01:00", "leads": 3},
    ]
    columns = hour_columns(per_hour, "Europe/Berlin")
    assert [(column["hour"], column["leads"]) for column in columns] == [
        ("01:00", 1),
        ("02:00", 0),
        ("02:00", 3),
    ]


def test_a_new_day_is_labelled_and_long_shows_keep_their_last_hours() -> None:
    per_hour = [
        {"hour": "2026-03-10T23:00:00+00:00", "leads": 1},
        {"hour": "2026-03-11T00:00:00+00:00", "leads": 2},
    ]
    columns = hour_columns(per_hour, "UTC")
    assert [column["day"] for column in columns] == ["Tue 10 Mar", "Wed 11 Mar"]
    long_show = [
        {"hour": "2026-01-01T00:00:00+00:00", "leads": 1},
        {"hour": "2026-03-01T00:00:00+00:00", "leads": 9},
    ]
    columns = hour_columns(long_show, "UTC")
    assert len(columns) == MAX_HOURS
    assert columns[-1]["leads"] == 9
    assert hour_columns([], "UTC") == []
