"""Scoring: the shared rubric rules, rubric versions on events, and scores on leads."""

from __future__ import annotations

from flask.testing import FlaskClient

from sync.scoring import band_for, format_reason, score_lead
from tests.helpers import ApiHelper, Booth

RUBRIC = {
    "hot": 50,
    "warm": 20,
    "rules": [
        {"question": "budget", "equals": True, "points": 30, "reason": "Budget confirmed"},
        {"question": "timeframe", "equals": "Now", "points": 20, "reason": "Buying now"},
        {"question": "seats", "at_least": 100, "points": 15},
        {"question": "topics", "includes": "B", "points": 5},
        {"product": "scanner", "points": 10, "reason": "Wants the scanner"},
        {"question": "budget", "equals": False, "points": -10, "reason": "No budget"},
    ],
}


def test_scores_add_up_with_reasons_biggest_first():
    score = score_lead(
        RUBRIC,
        {"budget": True, "timeframe": "Now", "seats": 120, "topics": ["A", "B"]},
        ["scanner"],
    )
    assert score.points == 80 and score.band == "hot"
    assert [format_reason(r) for r in score.reasons] == [
        "Budget confirmed +30",
        "Buying now +20",
        "seats is at least 100 +15",
        "Wants the scanner +10",
        "topics includes B +5",
    ]


def test_types_must_match_and_negative_points_count():
    # True is not 1 and "100" is not a number of seats.
    assert score_lead(RUBRIC, {"budget": 1, "seats": "100"}, []).points == 0
    low = score_lead(RUBRIC, {"budget": False}, [])
    assert low.points == -10 and low.band == "cold"
    assert band_for(20, RUBRIC) == "warm" and band_for(19, RUBRIC) == "cold"
    # No rules, no judgement: the band is not invented from 0 points.
    assert score_lead(None, {"budget": True}, []).band is None
    assert score_lead({"hot": 60, "warm": 30, "rules": []}, {}, []).band is None


def test_rubric_changes_are_versioned_and_leads_record_their_version(
    api: ApiHelper, booth: Booth, client: FlaskClient
):
    url = f"/api/v1/events/{booth.event['id']}"
    first = client.patch(url, json={"rubric": RUBRIC}, headers=booth.marketer.headers)
    assert first.status_code == 200 and first.json["rubric"]["version"] == 1
    lead = api.capture(booth.tablet, booth.staff, answers={"budget": True, "timeframe": "Now"})
    assert lead["score"] == {
        "points": 60,
        "band": "hot",
        "reasons": [
            {"reason": "Budget confirmed", "points": 30},
            {"reason": "Buying now", "points": 20},
            {"reason": "Wants the scanner", "points": 10},
        ],
        "rubric_version": 1,
    }
    # Staff rated it warm: both the staff's rating and the rubric's band are kept.
    assert lead["rating"] == "hot"
    stricter = {**RUBRIC, "hot": 90}
    second = client.patch(url, json={"rubric": stricter}, headers=booth.marketer.headers)
    assert second.json["rubric"]["version"] == 2
    later = api.capture(
        booth.tablet,
        booth.staff,
        email="b@example.com",
        answers={"budget": True, "timeframe": "Now"},
    )
    assert later["score"]["band"] == "warm" and later["score"]["rubric_version"] == 2
    unchanged = client.get(f"/api/v1/leads/{lead['id']}", headers=booth.marketer.headers).json
    assert unchanged["score"]["rubric_version"] == 1 and unchanged["score"]["band"] == "hot"


def test_editing_answers_rescores(api: ApiHelper, booth: Booth, client: FlaskClient):
    client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"rubric": RUBRIC},
        headers=booth.marketer.headers,
    )
    lead = api.capture(booth.tablet, booth.staff, answers={"budget": False}, products=[])
    assert lead["score"]["points"] == -10
    edited = client.patch(
        f"/api/v1/leads/{lead['id']}",
        json={"answers": {"budget": True}, "products": ["scanner"]},
        headers=booth.marketer.headers,
    )
    assert edited.json["score"]["points"] == 40 and edited.json["score"]["band"] == "warm"


def test_bad_rubrics_are_refused(booth: Booth, client: FlaskClient):
    url = f"/api/v1/events/{booth.event['id']}"
    bad = [
        {**RUBRIC, "warm": 80},
        {**RUBRIC, "rules": [{"question": "budget", "points": 5}]},
        {**RUBRIC, "rules": [{"product": "scanner", "equals": 1, "points": 5}]},
        {**RUBRIC, "rules": [{"question": "nope", "equals": True, "points": 5}]},
        {**RUBRIC, "rules": [{"product": "nope", "points": 5}]},
        {**RUBRIC, "rules": [{"question": "budget", "equals": {"x": 1}, "points": 5}]},
        {**RUBRIC, "rules": [{"question": "budget", "equals": True, "points": 10**6}]},
    ]
    for rubric in bad:
        response = client.patch(url, json={"rubric": rubric}, headers=booth.marketer.headers)
        assert response.status_code == 422, rubric
    assert client.get(url, headers=booth.marketer.headers).json["rubric"]["version"] == 0
