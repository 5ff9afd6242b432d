"""The event dashboard's figures, checked against a small data set computed by hand.

Leads arrive through the API as tablets send them; statuses change through the API as reps
change them; the speed-to-lead timestamps (set by server clocks) are then pinned to known
values so the percentiles can be worked out on paper.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from server.extensions import db
from server.leads.models import Lead
from server.stats.service import compare_events, event_stats
from server.users.models import Role
from tests.helpers import ApiHelper, Booth

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 13:00 in Berlin, on the 24th


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _patch(client: FlaskClient, headers: dict[str, str], lead_id: str, **body: Any) -> None:
    response = client.patch(f"/api/v1/leads/{lead_id}", json=body, headers=headers)
    assert response.status_code == 200, response.json


def _pin(app: Flask, lead_id: str, **times: datetime | None) -> None:
    """Set a lead's speed-to-lead timestamps (server clocks) to known values."""
    with app.app_context():
        db.session.execute(update(Lead).where(Lead.id == uuid.UUID(lead_id)).values(**times))
        db.session.commit()


@pytest.fixture
def show(api: ApiHelper, app: Flask, booth: Booth, client: FlaskClient) -> dict[str, Any]:
    """Five leads from two staff on two tablets, with known timelines and outcomes.

    | lead | captured (UTC)  | Berlin        | rating | staff | tablet | outcome               |
    | L1   | 23rd 08:10      | 23rd 09:10    | hot    | A     | 1      | won 5000              |
    | L2   | 23rd 08:50      | 23rd 09:50    | warm   | A     | 1      | disqualified No budget|
    | L3   | 23rd 22:59      | 23rd 23:59    | cold   | B     | 2      | disqualified No budget|
    | L4   | 23rd 23:01      | 24th 00:01    | hot    | B     | 2      | qualified             |
    | L5   | 24th 10:30      | 24th 11:30    | none   | A     | 1      | new (unrouted)        |
    """
    staff_b = api.person(Role.STAFF, name="Bea Booth")
    api.add_member(booth.marketer, booth.event["id"], staff_b.id)
    tablet_2 = api.tablet(booth.marketer, booth.event["id"], name="Tablet 2")
    spare = api.tablet(booth.marketer, booth.event["id"], name="Spare")
    a, b = booth.staff, staff_b
    specs = [
        (booth.tablet, a, "2026-11-23T08:10:00", "hot", ["scanner"],
         {"budget": True, "timeframe": "Now", "topics": ["A", "B"], "seats": 10,
          "pain": "=cmd|' /C calc'!A0"}),
        (booth.tablet, a, "2026-11-23T08:50:00", "warm", ["scanner", "crm"],
         {"budget": False, "timeframe": "Later", "topics": ["B"], "seats": 20}),
        (tablet_2, b, "2026-11-23T22:59:00", "cold", [], {"budget": True}),
        (tablet_2, b, "2026-11-23T23:01:00", "hot", ["crm"],
         {"budget": True, "timeframe": "Now", "seats": 30}),
        (booth.tablet, a, "2026-11-24T10:30:00", None, ["crm"], {"budget": False}),
    ]  # fmt: skip
    ids = []
    for tablet, staff, captured, rating, products, answers in specs:
        lead = api.capture(
            tablet,
            staff,
            captured_at=_at(captured).isoformat(),
            rating=rating,
            products=products,
            answers=answers,
        )
        ids.append(lead["id"])
    l1, l2, l3, l4, l5 = ids
    rep, boss = booth.rep.headers, booth.marketer.headers
    _patch(client, boss, l5, owner_id=booth.rep.id)  # routed, then back to an unrouted state
    for lead_id in (l1, l2, l4):
        _patch(client, boss, lead_id, owner_id=booth.rep.id)
        _patch(client, rep, lead_id, status="acknowledged")
        _patch(client, rep, lead_id, status="contacted")
    _patch(client, rep, l1, status="meeting")
    _patch(client, rep, l1, status="qualified")
    _patch(client, rep, l1, status="won", value="5000")
    _patch(client, rep, l2, status="disqualified", reason="No budget")
    _patch(client, boss, l3, status="disqualified", reason="No budget")
    _patch(client, rep, l4, status="qualified")
    seconds = timedelta(seconds=1)
    # capture->alert 10, 20, 40, 100 s; alert->ack 60, 120, 600 s; ack->contact 3600, 7200, 1800.
    timeline = {
        l1: (10, 60, 3600),
        l2: (20, 120, 7200),
        l3: (40, None, None),
        l4: (100, 600, 1800),
        l5: (None, None, None),
    }
    for (lead_id, (alert, ack, contact)), spec in zip(timeline.items(), specs, strict=True):
        captured = _at(spec[2])
        alerted = captured + alert * seconds if alert is not None else None
        acked = alerted + ack * seconds if ack is not None else None
        contacted = acked + contact * seconds if contact is not None else None
        _pin(app, lead_id, alerted_at=alerted, acknowledged_at=acked, first_contact_at=contacted)
    with app.app_context():
        db.session.execute(update(Lead).where(Lead.id == uuid.UUID(l5)).values(status="new"))
        db.session.commit()
    return {
        "ids": ids,
        "staff_a": a,
        "staff_b": b,
        "tablets": (booth.tablet, tablet_2, spare),
    }


def test_every_figure_of_a_known_event(app: Flask, booth: Booth, show: dict[str, Any]):
    with app.app_context():
        stats = event_stats(booth.event["id"], NOW)
    assert stats["event"]["timezone"] == "Europe/Berlin"
    assert stats["today"] == "2026-11-24"
    # L4 was captured at 00:01 Berlin time on the 24th: today, though it was still the 23rd in UTC.
    assert stats["totals"] == {"leads": 5, "today": 2, "hot": 2, "consented": 5}
    assert stats["targets"] == {
        "leads": {"target": 100, "actual": 5, "share": 0.05},
        "hot_leads": {"target": 20, "actual": 2, "share": 0.1},
    }
    assert stats["per_hour"] == [
        {"hour": "2026-11-23T09:00:00+01:00", "leads": 2},
        {"hour": "2026-11-23T23:00:00+01:00", "leads": 1},
        {"hour": "2026-11-24T00:00:00+01:00", "leads": 1},
        {"hour": "2026-11-24T11:00:00+01:00", "leads": 1},
    ]
    assert stats["by_rating"] == [
        {"rating": "hot", "leads": 2},
        {"rating": "warm", "leads": 1},
        {"rating": "cold", "leads": 1},
        {"rating": None, "leads": 1},
    ]
    assert [row["leads"] for row in stats["by_score_band"]]  # checked in test_score_bands
    assert stats["by_staff"] == [
        {"user_id": show["staff_a"].id, "name": "staff 3", "leads": 3, "hot": 1},
        {"user_id": show["staff_b"].id, "name": "Bea Booth", "leads": 2, "hot": 1},
    ]
    assert stats["by_product"] == [
        {"product": "scanner", "name": "Scanner", "leads": 2},
        {"product": "crm", "name": "CRM", "leads": 3},
    ]
    assert stats["questions"] == [
        {
            "id": "budget",
            "label": "Budget?",
            "type": "yes_no",
            "answered": 5,
            "answers": [{"value": "yes", "leads": 3}, {"value": "no", "leads": 2}],
        },
        {
            "id": "timeframe",
            "label": "When?",
            "type": "single_choice",
            "answered": 3,
            "answers": [{"value": "Now", "leads": 2}, {"value": "Later", "leads": 1}],
        },
        {
            "id": "topics",
            "label": "Topics",
            "type": "multiple_choice",
            "answered": 2,
            "answers": [
                {"value": "A", "leads": 1},
                {"value": "B", "leads": 2},
                {"value": "C", "leads": 0},
            ],
        },
        {
            "id": "seats",
            "label": "Seats",
            "type": "number",
            "answered": 3,
            "answers": [],
            "number": {"min": 10.0, "max": 30.0, "avg": 20.0},
        },
        {"id": "pain", "label": "Pain", "type": "text", "answered": 1, "answers": []},
    ]
    tablet_1, tablet_2, spare = show["tablets"]
    devices = {row["id"]: row for row in stats["devices"]}
    assert [devices[t.id]["leads"] for t in (tablet_1, tablet_2, spare)] == [3, 2, 0]
    assert devices[spare.id]["last_lead_received_at"] is None
    assert devices[tablet_1.id]["last_seen_at"] is not None  # it has called the server
    assert all(row["pending_uploads"] is None for row in stats["devices"])
    assert stats["pending_uploads_known"] is False
    assert stats["funnel"] == [
        {"stage": "captured", "leads": 5},
        {"stage": "alerted", "leads": 4},
        {"stage": "acknowledged", "leads": 3},
        {"stage": "contacted", "leads": 3},
        {"stage": "meeting", "leads": 2},
        {"stage": "qualified", "leads": 2},
        {"stage": "won", "leads": 1},
    ]
    # Sorted durations, percentile p at position p * (n - 1), interpolated:
    # [10, 20, 40, 100]: median at 1.5 -> 30, p90 at 2.7 -> 40 + 0.7 * 60 = 82
    # [60, 120, 600]: median 120, p90 at 1.8 -> 120 + 0.8 * 480 = 504
    # [1800, 3600, 7200]: median 3600, p90 at 1.8 -> 3600 + 0.8 * 3600 = 6480
    assert stats["speed_to_lead"] == {
        "capture_to_alert": {"count": 4, "median_s": 30.0, "p90_s": 82.0},
        "alert_to_ack": {"count": 3, "median_s": 120.0, "p90_s": 504.0},
        "ack_to_contact": {"count": 3, "median_s": 3600.0, "p90_s": 6480.0},
    }
    by_status = {row["status"]: row["leads"] for row in stats["outcomes"]["by_status"]}
    assert by_status == {
        "new": 1,
        "assigned": 0,
        "acknowledged": 0,
        "contacted": 0,
        "meeting": 0,
        "qualified": 1,
        "disqualified": 2,
        "won": 1,
        "lost": 0,
    }
    assert stats["outcomes"]["disqualification_reasons"] == [{"reason": "No budget", "leads": 2}]
    assert stats["outcomes"]["lost_reasons"] == []
    assert stats["outcomes"]["won_value"] == "5000.00"
    assert stats["rating_vs_outcome"] == [
        {"rating": "hot", "leads": 2, "qualified": 2, "share": 1.0},
        {"rating": "warm", "leads": 1, "qualified": 0, "share": 0.0},
        {"rating": "cold", "leads": 1, "qualified": 0, "share": 0.0},
    ]
    assert stats["cost"] == {
        "currency": "EUR",
        "cost": "1000.00",
        "qualified": 2,
        "per_lead": "200.00",
        "per_qualified_lead": "500.00",
    }


def test_score_bands_match_the_leads_scores(
    booth: Booth, client: FlaskClient, show: dict[str, Any]
):
    listed = client.get(
        f"/api/v1/leads?event_id={booth.event['id']}", headers=booth.marketer.headers
    ).json["items"]
    expected = {band: 0 for band in ("hot", "warm", "cold", None)}
    for lead in listed:
        expected[lead["score"]["band"]] += 1
    stats = client.get(
        f"/api/v1/events/{booth.event['id']}/stats", headers=booth.marketer.headers
    ).json
    assert {row["band"]: row["leads"] for row in stats["by_score_band"]} == expected


def test_the_api_answers_the_same_figures(
    app: Flask, booth: Booth, client: FlaskClient, show: dict[str, Any]
):
    response = client.get(f"/api/v1/events/{booth.event['id']}/stats", headers=booth.admin.headers)
    assert response.status_code == 200
    with app.app_context():
        direct = event_stats(booth.event["id"])
    got, direct = dict(response.json), dict(direct)
    got.pop("generated_at"), direct.pop("generated_at")
    assert got == direct


def test_hours_follow_zones_that_are_not_whole_hours_from_utc(
    api: ApiHelper, app: Flask, booth: Booth
):
    # India is UTC+5:30: 03:20 and 03:40 UTC share a UTC hour but not a local one.
    event = api.event(booth.marketer, timezone="Asia/Kolkata", name="Mumbai Expo")
    api.add_member(booth.marketer, event["id"], booth.staff.id)
    tablet = api.tablet(booth.marketer, event["id"])
    for captured in ("2026-11-23T03:20:00", "2026-11-23T03:40:00", "2026-11-23T03:55:00"):
        api.capture(tablet, booth.staff, captured_at=_at(captured).isoformat())
    with app.app_context():
        stats = event_stats(event["id"], NOW)
    assert stats["per_hour"] == [
        {"hour": "2026-11-23T08:00:00+05:30", "leads": 1},
        {"hour": "2026-11-23T09:00:00+05:30", "leads": 2},
    ]
    assert stats["today"] == "2026-11-24"  # 17:30 in India
    assert stats["totals"]["today"] == 0


def test_hours_across_a_daylight_saving_change(api: ApiHelper, app: Flask, booth: Booth):
    # Berlin went from UTC+2 to UTC+1 at 01:00 UTC on 2026-10-25: 02:00-03:00 local ran twice.
    event = api.event(booth.marketer, name="Autumn Expo")
    api.add_member(booth.marketer, event["id"], booth.staff.id)
    tablet = api.tablet(booth.marketer, event["id"])
    for captured in ("2026-10-24T23:30:00", "2026-10-25T00:30:00", "2026-10-25T01:30:00"):
        api.capture(tablet, booth.staff, captured_at=_at(captured).isoformat())
    with app.app_context():
        hours = event_stats(event["id"], NOW)["per_hour"]
    assert hours == [
        {"hour": "2026-10-25T01:00:00+02:00", "leads": 1},
        {"hour": "2026-10-25T02:00:00+02:00", "leads": 1},
        {"hour": "2026-10-25T02:00:00+01:00", "leads": 1},
    ]


def test_an_event_with_no_leads_has_zeros_and_no_ratios(app: Flask, booth: Booth):
    with app.app_context():
        stats = event_stats(booth.event["id"], NOW)
    assert stats["totals"] == {"leads": 0, "today": 0, "hot": 0, "consented": 0}
    assert stats["targets"]["leads"] == {"target": 100, "actual": 0, "share": 0.0}
    assert stats["per_hour"] == [] and stats["by_staff"] == []
    assert [row["leads"] for row in stats["by_rating"]] == [0, 0, 0, 0]
    assert [row["leads"] for row in stats["by_product"]] == [0, 0]
    assert stats["questions"][3]["number"] is None
    assert [row["leads"] for row in stats["funnel"]] == [0] * 7
    assert stats["speed_to_lead"]["alert_to_ack"] == {"count": 0, "median_s": None, "p90_s": None}
    assert all(row["share"] is None for row in stats["rating_vs_outcome"])
    assert stats["outcomes"]["won_value"] == "0.00"
    assert stats["cost"]["per_lead"] is None and stats["cost"]["per_qualified_lead"] is None
    assert [row["leads"] for row in stats["devices"]] == [0]


def test_one_lead_has_its_own_duration_as_every_percentile(
    api: ApiHelper, app: Flask, booth: Booth
):
    lead = api.capture(
        booth.tablet, booth.staff, captured_at=_at("2026-11-23T10:00:00").isoformat()
    )
    _pin(app, lead["id"], alerted_at=_at("2026-11-23T10:00:07.5"))
    with app.app_context():
        speed = event_stats(booth.event["id"], NOW)["speed_to_lead"]
    assert speed["capture_to_alert"] == {"count": 1, "median_s": 7.5, "p90_s": 7.5}


def test_compare_lists_events_in_the_order_asked(
    api: ApiHelper, app: Flask, booth: Booth, client: FlaskClient, show: dict[str, Any]
):
    other = api.event(booth.marketer, name="Quiet Expo", cost=None)
    url = f"/api/v1/stats/compare?event_id={other['id']}&event_id={booth.event['id']}"
    response = client.get(url, headers=booth.marketer.headers)
    assert response.status_code == 200
    assert [row["event"]["name"] for row in response.json] == ["Quiet Expo", "Test Expo"]
    assert [row["totals"]["leads"] for row in response.json] == [0, 5]
    assert response.json[0]["cost"]["cost"] is None
    with app.app_context():
        direct = compare_events([other["id"], booth.event["id"]], NOW)
    assert [row["funnel"] for row in direct] == [row["funnel"] for row in response.json]


@pytest.mark.parametrize("who", ["rep", "staff"])
def test_reps_and_staff_may_not_read_stats(
    booth: Booth, client: FlaskClient, show: dict[str, Any], who: str
):
    headers = getattr(booth, who).headers
    stats = client.get(f"/api/v1/events/{booth.event['id']}/stats", headers=headers)
    compare = client.get(f"/api/v1/stats/compare?event_id={booth.event['id']}", headers=headers)
    assert stats.status_code == 403 and compare.status_code == 403
    assert "totals" not in stats.json


def test_tablets_may_not_read_stats(booth: Booth, client: FlaskClient):
    url = f"/api/v1/events/{booth.event['id']}/stats"
    assert client.get(url, headers=booth.tablet.headers).status_code == 403


def test_unknown_events_are_404_and_bad_lists_422(booth: Booth, client: FlaskClient):
    headers = booth.marketer.headers
    assert client.get("/api/v1/events/999999/stats", headers=headers).status_code == 404
    missing = client.get(
        f"/api/v1/stats/compare?event_id={booth.event['id']}&event_id=999999", headers=headers
    )
    assert missing.status_code == 404
    assert client.get("/api/v1/stats/compare", headers=headers).status_code == 422
    many = "&".join(f"event_id={booth.event['id']}" for _ in range(11))
    assert client.get(f"/api/v1/stats/compare?{many}", headers=headers).status_code == 422
    assert client.get("/api/v1/stats/compare?event_id=x", headers=headers).status_code == 422


@pytest.mark.skipif(
    not hasattr(Lead, "merged_into_id"),
    reason="leads.merged_into_id arrives with migration 0004",
)
def test_merged_duplicates_count_neither_in_figures_nor_exports(
    api: ApiHelper, app: Flask, booth: Booth, client: FlaskClient
):
    first = api.capture(booth.tablet, booth.staff, captured_at=_at("2026-11-24T09:00").isoformat())
    again = api.capture(booth.tablet, booth.staff, captured_at=_at("2026-11-24T09:05").isoformat())
    with app.app_context():
        db.session.execute(
            update(Lead)
            .where(Lead.id == uuid.UUID(again["id"]))
            .values(merged_into_id=uuid.UUID(first["id"]))
        )
        db.session.commit()
        stats = event_stats(booth.event["id"], NOW)
    assert stats["totals"]["leads"] == 1 and stats["funnel"][0]["leads"] == 1
    assert stats["per_hour"] == [{"hour": "2026-11-24T10:00:00+01:00", "leads": 1}]
    exported = client.get(
        f"/api/v1/events/{booth.event['id']}/leads.csv", headers=booth.marketer.headers
    ).get_data(as_text=True)
    assert first["id"] in exported and again["id"] not in exported
