"""The lead list's paging and labels, on a real store, without a window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mobile.leadlist import (
    PREFETCH_ROWS,
    STATE_COLORS,
    STATE_LABELS,
    LeadPager,
    captured_label,
    display_name,
    row_data,
    state_label,
)
from sync.store import LEAD_STATES, DeviceStore

TODAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DeviceStore]:
    store = DeviceStore(tmp_path / "tablet.sqlite3")
    for number in range(250):
        company = "Acme" if number % 10 == 0 else "Other"
        store.save_lead({"captured_by_id": 1, "first_name": f"P{number}", "company": company})
    yield store
    store.close()


def test_rows_are_read_by_index_a_page_at_a_time(store: DeviceStore) -> None:
    calls: list[int] = []

    def search(text: str, limit: int, offset: int) -> list[dict[str, Any]]:
        calls.append(offset)
        return store.search_leads(text, limit, offset)

    pager = LeadPager(search, page_size=100, cached_pages=2)
    pager.reset("", total=250)
    assert pager.length == 250 and calls == []  # nothing read until shown
    assert pager.get(0)["first_name"] == "P249"
    assert pager.get(99)["first_name"] == "P150"
    assert pager.get(249)["first_name"] == "P0"
    assert pager.get(250) is None and pager.get(-1) is None
    assert calls == [0, 200]
    pager.get(150)
    pager.get(5)  # page 0 was evicted by pages 2 and 1
    assert calls == [0, 200, 100, 0]
    ids = {pager.get(index)["id"] for index in range(250)}
    assert len(ids) == 250


def test_a_search_grows_a_page_at_a_time(store: DeviceStore) -> None:
    pager = LeadPager(store.search_leads, page_size=10)
    pager.reset("  acme ")
    assert pager.text == "acme" and pager.length == 10 and not pager.exhausted
    assert all(pager.get(i)["company"] == "Acme" for i in range(10))
    assert pager.wants_more(9)
    assert pager.load_more() == 20
    assert pager.load_more() == 25 and pager.exhausted  # 25 of the 250 work at Acme
    assert pager.load_more() == 25 and not pager.wants_more(24)
    assert pager.get(24)["first_name"] == "P0"


def test_a_search_asks_for_more_near_its_end(store: DeviceStore) -> None:
    pager = LeadPager(store.search_leads, page_size=100)
    pager.reset("p")
    assert pager.length == 100
    assert not pager.wants_more(100 - PREFETCH_ROWS - 1)
    assert pager.wants_more(100 - PREFETCH_ROWS)


def test_a_known_total_never_grows(store: DeviceStore) -> None:
    pager = LeadPager(store.search_leads, page_size=100)
    pager.reset("", total=250)
    assert not pager.wants_more(249)


def lead(**overrides: Any) -> dict[str, Any]:
    base = {
        "id": "x",
        "first_name": None,
        "last_name": None,
        "email": None,
        "phone": None,
        "badge_payload": None,
        "company": None,
        "job_title": None,
        "rating": None,
        "captured_at": None,
        "sync_state": "pending",
        "server_version": None,
        "owner_id": None,
        "acknowledged_at": None,
    }
    return {**base, **overrides}


@pytest.mark.parametrize(
    ("overrides", "state"),
    [
        ({}, "on_tablet"),
        ({"sync_state": "uploaded", "server_version": 3}, "uploaded"),
        ({"sync_state": "uploaded", "server_version": 3, "owner_id": 4}, "routed"),
        (
            {"sync_state": "uploaded", "server_version": 3, "owner_id": 4, "acknowledged_at": "x"},
            "acknowledged",
        ),
        ({"sync_state": "rejected"}, "rejected"),
    ],
)
def test_every_state_has_a_label_and_colour(overrides: dict[str, Any], state: str) -> None:
    assert state_label(lead(**overrides)) == STATE_LABELS[state]
    assert set(STATE_LABELS) == set(STATE_COLORS) == set(LEAD_STATES)


def test_names_fall_back_to_contact_then_badge() -> None:
    assert display_name(lead(first_name="Ann", last_name="Example")) == "Ann Example"
    assert display_name(lead(email="a@x.com")) == "a@x.com"
    assert display_name(lead(phone="+49301234567")) == "+49301234567"
    assert display_name(lead(badge_payload="EXPO-1\nmore")) == "Badge EXPO-1"
    assert display_name(lead()) == "(no name)"


def test_row_data() -> None:
    row = row_data(
        lead(
            id="abc",
            first_name="Ann",
            company="Acme",
            email="a@x.com",
            rating="hot",
            captured_at=(TODAY - timedelta(hours=2)).isoformat(),
        ),
        TODAY,
    )
    assert row == {
        "lead_id": "abc",
        "title": "Ann",
        "subtitle": "Acme · a@x.com",
        "state_label": "On tablet",
        "state_color": STATE_COLORS["on_tablet"],
        "when": "13:00",
        "rating": "Hot",
    }


def test_captured_label() -> None:
    assert captured_label(None, TODAY) == ""
    assert captured_label("garbage", TODAY) == ""
    assert captured_label("2026-11-20T09:05:00+00:00", TODAY) == "20 Nov 09:05"
