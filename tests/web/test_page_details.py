"""Details of the web pages a new customer meets in the first hour (test client).

Whole numbers in the answer figures, a cost card that says plainly what it lacks, a lead
header without stray separators, the event's view for reps, the favicon, and the tablet
app's pairing help naming the Tablets page's real button.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask

from server.users.models import Role
from server.web.formatting import number
from tests.helpers import ApiHelper, Booth
from tests.web.test_pages import EVENT_FORM, lead_routed_to, logged_in
from tests.web.webclient import post_form

ROOT = Path(__file__).resolve().parents[2]


def _dashboard(app: Flask, booth: Booth) -> str:
    client = logged_in(app, booth.marketer)
    response = client.get(f"/web/events/{booth.event['id']}/dashboard.json")
    assert response.status_code == 200
    return response.json["html"]


@pytest.mark.parametrize(
    ("value", "places", "trim", "shown"),
    [
        (250.0, 1, True, "250"),
        (12.5, 1, True, "12.5"),
        (1234.0, 1, True, "1,234"),
        (0.0, 1, True, "0"),
        (250.0, 1, False, "250.0"),
        (Decimal("10.00"), 2, False, "10.00"),
        (None, 1, True, "–"),
    ],
)
def test_number_drops_trailing_zeros_only_when_asked(
    value: object, places: int, trim: bool, shown: str
):
    assert number(value, places, trim=trim) == shown


def test_number_answers_show_whole_numbers_without_a_decimal(
    app: Flask, api: ApiHelper, booth: Booth
):
    for seats in (250, 300):
        api.capture(booth.tablet, booth.staff, answers={"budget": True, "seats": seats})
    page = _dashboard(app, booth)
    assert "min <b>250</b> · average <b>275</b> · max <b>300</b>" in page
    assert "250.0" not in page
    api.capture(booth.tablet, booth.staff, answers={"budget": True, "seats": 251})
    assert "average <b>267</b>" in _dashboard(app, booth)  # 801 / 3, to one place: 267.0


def _cost_card(page: str) -> str:
    card = re.search(r'<div class="kpi" id="kpi-cost">(.*?)</div>\s*</div>', page, re.S)
    assert card, page[:2000]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card.group(1))).strip()


def _qualify(api: ApiHelper, booth: Booth, lead_id: str) -> None:
    for status in ("acknowledged", "qualified"):
        response = api.client.patch(
            f"/api/v1/leads/{lead_id}", json={"status": status}, headers=booth.rep.headers
        )
        assert response.status_code == 200, response.json


def test_the_cost_card_says_plainly_what_it_lacks(app: Flask, api: ApiHelper, booth: Booth):
    event = f"/api/v1/events/{booth.event['id']}"
    assert (
        api.client.patch(event, json={"cost": None}, headers=booth.marketer.headers).status_code
        == 200
    )
    assert _cost_card(_dashboard(app, booth)) == "Cost per lead – no cost entered · enter it"
    assert (
        api.client.patch(
            event, json={"cost": "1000.00"}, headers=booth.marketer.headers
        ).status_code
        == 200
    )
    assert _cost_card(_dashboard(app, booth)) == "Cost per lead – 1,000.00 EUR spent, no leads yet"
    first = api.capture(booth.tablet, booth.staff)
    api.capture(booth.tablet, booth.staff)
    card = _cost_card(_dashboard(app, booth))
    assert card == "Cost per lead 500.00 EUR · no qualified leads yet"
    _qualify(api, booth, first["id"])
    card = _cost_card(_dashboard(app, booth))
    assert card == "Cost per lead 500.00 EUR · 1,000.00 per qualified lead"
    assert "– per" not in card


@pytest.mark.parametrize(
    ("job_title", "company", "starts"),
    [
        (None, None, "Test Expo"),
        ("CTO", None, "CTO · Test Expo"),
        (None, "Acme", "Acme · Test Expo"),
        ("CTO", "Acme", "CTO at Acme · Test Expo"),
    ],
)
def test_the_lead_header_has_no_stray_separator(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    job_title: str | None,
    company: str | None,
    starts: str,
):
    lead = lead_routed_to(api, booth, booth.rep, job_title=job_title, company=company)
    page = logged_in(app, booth.marketer).get(f"/web/leads/{lead}").get_data(as_text=True)
    subtitle = re.search(r'<p class="muted" id="lead-subtitle">(.*?)</p>', page, re.S).group(1)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", subtitle)).strip()
    assert text.startswith(starts + " · captured "), text
    assert f'href="/web/events/{booth.event["id"]}"' in subtitle


def test_a_rep_opening_an_event_sees_their_leads_of_it_read_only(
    app: Flask, api: ApiHelper, booth: Booth
):
    other = api.person(Role.REP, name="Otto Other")
    api.add_member(booth.marketer, booth.event["id"], other.id)
    mine = lead_routed_to(api, booth, booth.rep, first_name="Mine", last_name="Lead")
    theirs = lead_routed_to(api, booth, other, first_name="Theirs", last_name="Lead")
    rep = logged_in(app, booth.rep)
    path = f"/web/events/{booth.event['id']}"
    response = rep.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Test Expo" in page and "Your leads from this event" in page
    assert f'href="/web/leads/{mine}"' in page and "Mine Lead" in page
    assert theirs not in page and "Theirs Lead" not in page
    for fact in ("Hall 1", "B1", "TEST-26", "Europe/Berlin", "Scanner", "Budget?"):
        assert fact in page, fact
    # Read-only: no form changes the event, no link to its settings, team or tablets.
    assert "<form" not in page.split("<main", 1)[1]
    for manager_page in ("/edit", "/team", "/tablets"):
        assert f'href="{path}{manager_page}"' not in page
        assert rep.get(path + manager_page).status_code == 403
    assert rep.get(path + "/dashboard.json").status_code == 403
    # A rep off the event's team does not learn it exists.
    outsider = logged_in(app, api.person(Role.REP))
    assert outsider.get(path).status_code == 404
    # The rep reaches the page from their lead.
    lead_page = rep.get(f"/web/leads/{mine}").get_data(as_text=True)
    assert f'href="{path}"' in lead_page


def test_every_page_has_a_favicon_that_is_served(app: Flask, api: ApiHelper, booth: Booth):
    client = logged_in(app, booth.marketer)
    for path in ("/web/login", "/web/events", f"/web/events/{booth.event['id']}"):
        page = client.get(path, follow_redirects=True).get_data(as_text=True)
        found = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
        assert found, path
        assert found.group(1) == "/static/favicon.svg"
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
        assert icon.data.startswith(b"<svg") and b'viewBox="0 0 32 32"' in icon.data
    moved = client.get("/favicon.ico")
    assert moved.status_code == 301 and moved.location == "/static/favicon.svg"


def test_the_tablets_pairing_help_names_the_button_the_tablets_page_shows(app: Flask, booth: Booth):
    help_text = (ROOT / "mobile" / "kv" / "pairing.kv").read_text()
    named = re.search(r"choose Tablets > ([^.]+)\.", help_text)
    assert named, "the pairing help no longer says which button to press"
    client = logged_in(app, booth.marketer)
    page = client.get(f"/web/events/{booth.event['id']}/tablets").get_data(as_text=True)
    buttons = re.findall(r'<button type="submit" class="primary">([^<]+)</button>', page)
    assert named.group(1) in buttons, (named.group(1), buttons)
    # And pressing it shows a code, as the help's next step says.
    shown = post_form(
        client,
        f"/web/events/{booth.event['id']}/tablets/pair",
        {},
        token_from=f"/web/events/{booth.event['id']}/tablets",
    )
    assert shown.status_code == 201 and 'id="pairing-code"' in shown.get_data(as_text=True)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("[" * 100_000 + "]" * 100_000, "Not valid JSON: the text nests too deeply."),
        ("[" + "7" * 5000 + "]", "Not valid JSON: the text holds a number too long to read."),
        ('[{"id": "x", "label": "\\ud800", "type": "text"}]', "lone surrogate"),
        ("[{", "Not valid JSON: Expecting property name enclosed in double quotes (line 1)."),
    ],
    ids=["deep", "long-number", "lone-surrogate", "syntax"],
)
def test_json_the_decoder_refuses_in_the_event_form_is_shown_not_a_500(
    app: Flask, api: ApiHelper, text: str, shown: str
):
    client = logged_in(app, api.person(Role.MARKETER))
    response = post_form(client, "/web/events/new", {**EVENT_FORM, "questions": text})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert shown in page
    assert "Web Expo" in page  # what was typed is kept
