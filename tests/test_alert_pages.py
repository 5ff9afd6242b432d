"""The pages an alert email links to, followed from a real email (aiosmtpd on loopback).

"Open the lead" leads to the lead's web page, through the login form and back; the one-click
acknowledge page shows what a rep needs to act on the lead, styled like the other pages; the
lead page's timeline says which channel each alert went by.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.alerts.dispatcher import Dispatcher
from server.extensions import db
from server.users.models import User
from tests.alerting import smtp_for
from tests.helpers import PASSWORD, ApiHelper, Booth
from tests.peers import SmtpRecorder, WebhookReceiver
from tests.web.webclient import web_login

RUBRIC = {
    "hot": 10,
    "warm": 5,
    "rules": [
        {"question": "budget", "equals": True, "points": 10, "reason": "Budget approved"},
        {"product": "scanner", "points": 3, "reason": "Wants the scanner"},
    ],
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_NEXT = re.compile(r'name="next" value="([^"]*)"')


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpRecorder]:
    with smtp_for(app, monkeypatch) as recorder:
        yield recorder


@pytest.fixture
def alerted(
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    smtp: SmtpRecorder,
    dispatcher: Dispatcher,
) -> tuple[dict[str, Any], EmailMessage]:
    """Capture a scored lead with every contact field, and return it with its alert email."""
    response = client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"rubric": RUBRIC},
        headers=booth.marketer.headers,
    )
    assert response.status_code == 200, response.json
    lead = api.capture(
        booth.tablet,
        booth.staff,
        phone="+49 30 1234567",
        answers={"budget": True, "timeframe": "Later", "topics": ["A", "C"], "seats": 250},
        notes="Wants a demo for 3 sites.",
    )
    assert len(lead["score"]["reasons"]) == 2, lead
    dispatcher.run_once()
    (mail,) = smtp.wait_for(1)
    return lead, mail


def _path(url: str, app: Flask) -> str:
    public = app.config["LEADBRIDGE_PUBLIC_URL"]
    assert url.startswith(public + "/"), url
    return url.removeprefix(public)


def test_open_the_lead_in_the_email_opens_the_lead_page_after_login(
    app: Flask, booth: Booth, alerted: tuple[dict[str, Any], EmailMessage]
):
    lead, mail = alerted
    text = mail.get_body(("plain",)).get_content()
    in_text = re.search(r"Open the lead: (\S+)", text).group(1)
    markup = mail.get_body(("html",)).get_content()
    in_html = html.unescape(re.search(r'<a href="([^"]+)">Open the lead</a>', markup).group(1))
    assert in_text == in_html
    path = _path(in_text, app)
    assert path == f"/web/leads/{lead['id']}"

    # A browser that is not logged in: to the login form, which sends it back to the lead.
    browser = app.test_client()
    first = browser.get(path)
    assert first.status_code == 302 and "/web/login" in first.location
    form = browser.get(first.location).get_data(as_text=True)
    assert html.unescape(_NEXT.search(form).group(1)) == path
    logged_in = browser.post(
        "/web/login",
        data={
            "email": booth.rep.email,
            "password": PASSWORD,
            "next": html.unescape(_NEXT.search(form).group(1)),
            "csrf_token": _CSRF.search(form).group(1),
        },
    )
    assert logged_in.status_code == 302 and logged_in.location == path
    page = browser.get(logged_in.location)
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    shown = page.get_data(as_text=True)
    assert (
        "Ann Example" in shown and lead["phone"] in shown and "Wants a demo for 3 sites." in shown
    )


def _facts(page: str) -> dict[str, str]:
    """Return the page's <dt>/<dd> pairs as text."""
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", page, re.S)
    return {
        html.unescape(name): html.unescape(re.sub(r"<[^>]+>", "", value)).strip()
        for name, value in pairs
    }


@pytest.mark.parametrize("acknowledged", [False, True], ids=["to-acknowledge", "acknowledged"])
def test_the_acknowledge_page_shows_what_a_rep_needs_to_act(
    app: Flask,
    client: FlaskClient,
    alerted: tuple[dict[str, Any], EmailMessage],
    acknowledged: bool,
):
    lead, mail = alerted
    text = mail.get_body(("plain",)).get_content()
    path = _path(re.search(r"(https?://\S+/ack/[\w.\-]+)", text).group(1), app)
    if acknowledged:
        assert client.post(path).status_code == 200
    response = client.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert ("Acknowledge: I'm on it" in page) is not acknowledged
    facts = _facts(page)
    assert facts["Email"] == lead["email"]
    assert facts["Phone"] == lead["phone"] == "+49301234567"
    assert facts["Company"] == "Example GmbH"
    assert facts["Job title"] == "CTO"
    # Answers under the questions' labels, as the rep reads them.
    assert facts["Budget?"] == "yes"
    assert facts["When?"] == "Later"
    assert facts["Topics"] == "A, C"
    assert facts["Seats"] == "250"
    assert facts["Pain"] == "not answered"
    assert "budget" not in facts and "timeframe" not in facts
    assert '<p class="notes">Wants a demo for 3 sites.</p>' in page
    reasons = re.findall(r"<li><b>([+-]\d+)</b> ([^<]+)</li>", page)
    assert reasons == [("+10", "Budget approved"), ("+3", "Wants the scanner")]
    # The same stylesheet and page frame as the other web pages; no style of its own.
    assert 'href="/static/web.css"' in page and '<header class="topbar">' in page
    assert "<style" not in page
    with client.get("/static/web.css") as stylesheet:
        assert stylesheet.status_code == 200


def test_the_lead_timeline_names_each_alerts_channel(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    client: FlaskClient,
    smtp: SmtpRecorder,
    receiver: WebhookReceiver,
    dispatcher: Dispatcher,
):
    alerts = {"webhook_url": receiver.url("/hook"), "chat_webhook_url": receiver.url("/chat")}
    response = client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"alerts": alerts},
        headers=booth.marketer.headers,
    )
    assert response.status_code == 200, response.json
    lead = api.capture(booth.tablet, booth.staff)
    assert dispatcher.run_once() == 3
    browser = app.test_client()
    assert web_login(browser, booth.marketer.email).status_code == 302
    page = browser.get(f"/web/leads/{lead['id']}").get_data(as_text=True)
    entries = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip()
        for item in re.findall(r"<li><time>.*?</time>(.*?)</li>", page, re.S)
    ]
    alerted = sorted(entry for entry in entries if entry.startswith("alerted"))
    with app.app_context():
        rep = db.session.get(User, booth.rep.id).name
    assert alerted == [f"alerted {rep} by {channel}" for channel in ("chat", "email", "webhook")]
