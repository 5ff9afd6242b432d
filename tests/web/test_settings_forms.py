"""The event settings forms: each section posts, the stored event changes as the API would
change it, and refused input shows a form error with nothing stored (test client)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from server.events.models import Event, RubricVersion
from server.extensions import db
from server.seed import DEMO_PASSWORD, seed_demo
from server.users.models import Role, User
from server.web.alert_sections import channel_values
from tests.helpers import ApiHelper, Booth
from tests.web.test_pages import logged_in
from tests.web.webclient import post_form, web_login

SECTIONS = ("questions", "products", "rubric", "routing", "alerts")


def _event(app: Flask, event_id: int) -> dict[str, Any]:
    with app.app_context():
        event = db.session.get_one(Event, event_id)
        return {
            "questions": event.questions,
            "products": event.products,
            "rubric": event.rubric,
            "routing": event.routing,
            "alerts": event.alerts,
            "server_version": event.server_version,
            "rubric_versions": db.session.scalar(
                db.select(db.func.count()).where(RubricVersion.event_id == event_id)
            ),
        }


def _page(booth: Booth, key: str) -> str:
    return f"/web/events/{booth.event['id']}/settings/{key}"


def _post(client: FlaskClient, booth: Booth, key: str, data: dict[str, Any]) -> Any:
    return post_form(client, _page(booth, key), data, token_from=_page(booth, key))


@pytest.fixture
def marketer(app: Flask, booth: Booth) -> FlaskClient:
    return logged_in(app, booth.marketer)


def test_every_section_opens_for_managers_only(app: Flask, booth: Booth) -> None:
    for person, expected in ((booth.marketer, 200), (booth.admin, 200), (booth.rep, 403)):
        client = logged_in(app, person)
        for key in SECTIONS:
            assert client.get(_page(booth, key)).status_code == expected, (person.role, key)
    marketer = logged_in(app, booth.marketer)
    page = marketer.get(_page(booth, "questions")).get_data(as_text=True)
    # Every section and the JSON view are linked from each settings page.
    for key in SECTIONS:
        assert f"/settings/{key}" in page
    assert f"/web/events/{booth.event['id']}/edit" in page
    assert marketer.get(_page(booth, "nonsense")).status_code == 404


def _question_rows(questions: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for n, question in enumerate(questions):
        data.update(
            {
                f"questions-{n}-id": question["id"],
                f"questions-{n}-locked": "1",
                f"questions-{n}-label": question["label"],
                f"questions-{n}-type": question["type"],
                f"questions-{n}-options": "\n".join(question.get("options") or []),
                f"questions-{n}-order": str(n + 1),
            }
        )
        if question.get("required"):
            data[f"questions-{n}-required"] = "on"
    return data


def test_questions_are_added_reordered_and_removed_by_posting(
    app: Flask, booth: Booth, marketer: FlaskClient
) -> None:
    before = _event(app, booth.event["id"])
    data = _question_rows(before["questions"])  # budget, timeframe, topics, seats, pain
    data["questions-1-remove"] = "on"  # timeframe goes
    data["questions-4-order"] = "0.5"  # pain moves to the top
    data["questions-1-options"] = ""  # removed rows are not checked
    # The spare row, filled in: a new choice question with options, id made from the label.
    data.update(
        {
            "questions-5-label": "Which fair brought you?",
            "questions-5-type": "single_choice",
            "questions-5-options": "Spring Fair\n\nAutumn Show\n",
            "questions-5-required": "on",
            "questions-5-order": "2.5",
            "questions-6-label": "",  # a spare row left empty is ignored
            "questions-6-type": "yes_no",
            "questions-6-order": "7",
        }
    )
    response = _post(marketer, booth, "questions", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    after = _event(app, booth.event["id"])
    assert [q["id"] for q in after["questions"]] == [
        "pain",
        "budget",
        "which-fair-brought-you",
        "topics",
        "seats",
    ]
    added = after["questions"][2]
    assert added == {
        "id": "which-fair-brought-you",
        "label": "Which fair brought you?",
        "type": "single_choice",
        "required": True,
        "options": ["Spring Fair", "Autumn Show"],
    }
    # Tablets pull the change: the event's version moved on.
    assert after["server_version"] > before["server_version"]
    page = marketer.get(_page(booth, "questions")).get_data(as_text=True)
    assert "Questions saved" in page and "Which fair brought you?" in page


def test_a_refused_question_shows_the_schemas_error_and_stores_nothing(
    app: Flask, booth: Booth, marketer: FlaskClient
) -> None:
    before = _event(app, booth.event["id"])
    data = _question_rows(before["questions"])
    data.update(
        {
            "questions-5-label": "Pick one",
            "questions-5-type": "single_choice",  # but no options
            "questions-5-order": "6",
        }
    )
    response = _post(marketer, booth, "questions", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page
    assert "Question 6, options: Choice questions need options." in page
    assert "Pick one" in page  # what was typed stays in the form
    assert _event(app, booth.event["id"]) == before


def test_products_are_edited_through_the_same_rules(
    app: Flask, booth: Booth, marketer: FlaskClient
) -> None:
    data = {
        "products-0-id": "scanner",
        "products-0-locked": "1",
        "products-0-name": "Badge scanner kit",
        "products-0-order": "2",
        "products-1-id": "crm",
        "products-1-locked": "1",
        "products-1-name": "CRM",
        "products-1-remove": "on",
        "products-2-name": "Lead API",
        "products-2-material_url": "https://example.com/lead-api.pdf",
        "products-2-order": "1",
    }
    assert _post(marketer, booth, "products", data).status_code == 302
    assert _event(app, booth.event["id"])["products"] == [
        {"id": "lead-api", "name": "Lead API", "material_url": "https://example.com/lead-api.pdf"},
        {"id": "scanner", "name": "Badge scanner kit"},
    ]
    before = _event(app, booth.event["id"])
    data["products-2-material_url"] = "ftp://example.com/file"
    response = _post(marketer, booth, "products", data)
    assert response.status_code == 422
    assert "Product 1, material url:" in response.get_data(as_text=True)
    assert _event(app, booth.event["id"]) == before


def test_rubric_rules_with_points_become_a_new_rubric_version(
    app: Flask, api: ApiHelper, booth: Booth, marketer: FlaskClient
) -> None:
    data = {
        "hot": "40",
        "warm": "20",
        "rules-0-target": "question:budget",
        "rules-0-condition": "equals",
        "rules-0-value": "Yes",
        "rules-0-points": "30",
        "rules-0-reason": "Budget confirmed",
        "rules-0-order": "1",
        "rules-1-target": "question:seats",
        "rules-1-condition": "at_least",
        "rules-1-value": "100",
        "rules-1-points": "15",
        "rules-1-order": "2",
        "rules-2-target": "product:scanner",
        "rules-2-condition": "equals",
        "rules-2-points": "-5",
        "rules-2-order": "3",
        "rules-3-target": "",  # the spare row
        "rules-3-condition": "equals",
        "rules-3-order": "4",
    }
    assert _post(marketer, booth, "rubric", data).status_code == 302
    stored = _event(app, booth.event["id"])
    assert stored["rubric"] == {
        "hot": 40,
        "warm": 20,
        "rules": [
            {"question": "budget", "equals": True, "points": 30, "reason": "Budget confirmed"},
            {"question": "seats", "at_least": 100, "points": 15},
            {"product": "scanner", "points": -5},
        ],
        "version": 1,
    }
    assert stored["rubric_versions"] == 1
    # The API scores with it: budget 30 + scanner -5.
    lead = api.capture(booth.tablet, booth.staff, answers={"budget": True}, products=["scanner"])
    assert lead["score"]["points"] == 25 and lead["score"]["band"] == "warm"
    # The form shows the stored rules back as they were entered.
    page = marketer.get(_page(booth, "rubric")).get_data(as_text=True)
    assert 'value="Budget confirmed"' in page and 'value="yes"' in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rules-0-value": "perhaps"}, "Rule 1: answer yes or no for a yes/no question."),
        ({"rules-0-points": ""}, "Rule 1: give the points."),
        ({"rules-0-points": "5000"}, "Rule 1, points:"),
        ({"warm": "50"}, "The warm threshold cannot be above the hot one."),
        ({"rules-0-target": "question:nope"}, "Rule 1: this event has no question nope."),
    ],
)
def test_a_refused_rubric_shows_why_and_stores_nothing(
    app: Flask, booth: Booth, marketer: FlaskClient, change: dict[str, str], message: str
) -> None:
    before = _event(app, booth.event["id"])
    data = {
        "hot": "40",
        "warm": "20",
        "rules-0-target": "question:budget",
        "rules-0-condition": "equals",
        "rules-0-value": "yes",
        "rules-0-points": "30",
        "rules-0-order": "1",
        **change,
    }
    response = _post(marketer, booth, "rubric", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _event(app, booth.event["id"]) == before


def test_routing_rules_pick_reps_by_name(
    app: Flask, api: ApiHelper, booth: Booth, marketer: FlaskClient
) -> None:
    dach = api.person(Role.REP, name="Dana Dach")
    api.add_member(booth.marketer, booth.event["id"], dach.id)
    page = marketer.get(_page(booth, "routing")).get_data(as_text=True)
    assert f'<option value="{dach.id}" >Dana Dach</option>' in page  # a name, not an id to type
    data = {
        "routing-0-type": "territory",
        "routing-0-countries": "de, at ch",
        "routing-0-reps": [str(dach.id)],
        "routing-0-order": "1",
        "routing-1-type": "named_account",
        "routing-1-companies": "Acme Corp, Globex",
        "routing-1-domains": "ACME.com",
        "routing-1-reps": [str(booth.rep.id)],
        "routing-1-order": "0",
        "routing-2-type": "territory",  # the spare row
        "routing-2-order": "3",
        "fallback_owner_id": str(booth.marketer.id),
        "backup_owner_id": "",
    }
    assert _post(marketer, booth, "routing", data).status_code == 302
    assert _event(app, booth.event["id"])["routing"] == {
        "rules": [
            {
                "type": "named_account",
                "domains": ["acme.com"],
                "companies": ["Acme Corp", "Globex"],
                "rep_id": booth.rep.id,
            },
            {"type": "territory", "countries": ["DE", "AT", "CH"], "rep_ids": [dach.id]},
        ],
        "fallback_owner_id": booth.marketer.id,
        "backup_owner_id": None,
    }
    lead = api.capture(booth.tablet, booth.staff, country="AT")
    assert lead["owner"]["name"] == "Dana Dach"
    # Refused: a territory without countries; nothing changes.
    before = _event(app, booth.event["id"])
    data["routing-0-countries"] = ""
    response = _post(marketer, booth, "routing", data)
    assert response.status_code == 422
    assert "A territory needs rep_ids and countries or regions." in response.get_data(as_text=True)
    assert _event(app, booth.event["id"]) == before


def test_event_alert_channels_and_thank_you_are_set_by_form(
    app: Flask, booth: Booth, marketer: FlaskClient
) -> None:
    data = {
        "webhook_url": "https://hooks.example.com/leads",
        "webhook_secret": "whsec-form-secret",
        "chat_webhook_url": "https://chat.example.com/hook",
        "thank_you_enabled": "on",
        "thank_you_subject": "Thanks for stopping by",
        "thank_you_intro": "",
    }  # email unticked: off
    assert _post(marketer, booth, "alerts", data).status_code == 302
    alerts = _event(app, booth.event["id"])["alerts"]
    assert alerts == {
        "email": False,
        "webhook_url": "https://hooks.example.com/leads",
        "webhook_secret": "whsec-form-secret",
        "chat_webhook_url": "https://chat.example.com/hook",
        "thank_you": {"enabled": True, "subject": "Thanks for stopping by", "intro": None},
    }
    page = marketer.get(_page(booth, "alerts")).get_data(as_text=True)
    assert "whsec-form-secret" not in page  # write-only
    # Saving again with the secret left blank keeps it; clearing the URL removes it.
    data.update(webhook_secret="", chat_webhook_url="", email="on")
    assert _post(marketer, booth, "alerts", data).status_code == 302
    alerts = _event(app, booth.event["id"])["alerts"]
    assert alerts["webhook_secret"] == "whsec-form-secret"
    assert alerts["chat_webhook_url"] is None and alerts["email"] is True
    # A URL the API refuses is refused here too, with nothing stored.
    before = _event(app, booth.event["id"])
    data["webhook_url"] = "not a url"
    response = _post(marketer, booth, "alerts", data)
    assert response.status_code == 422
    assert "Webhook URL: Not a valid URL." in response.get_data(as_text=True)
    assert _event(app, booth.event["id"]) == before


def test_a_persons_alert_channels_are_set_by_themselves_or_an_admin(
    app: Flask, booth: Booth
) -> None:
    rep = logged_in(app, booth.rep)
    response = post_form(
        rep,
        "/web/account/alerts",
        {"webhook_url": "https://rep.example.com/hook", "chat_webhook_url": ""},
        token_from="/web/account/alerts",
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get_one(User, booth.rep.id).alerts == {
            "email": False,
            "webhook_url": "https://rep.example.com/hook",
            "chat_webhook_url": None,
        }
    # A rep cannot open another person's channels; an admin can.
    assert rep.get(f"/web/users/{booth.marketer.id}/alerts").status_code == 403
    admin = logged_in(app, booth.admin)
    path = f"/web/users/{booth.rep.id}/alerts"
    refused = post_form(admin, path, {"email": "on", "webhook_url": "ftp://x"}, token_from=path)
    assert refused.status_code == 422
    assert "Webhook URL: Not a valid URL." in refused.get_data(as_text=True)
    saved = post_form(admin, path, {"email": "on"}, token_from=path)
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get_one(User, booth.rep.id).alerts["email"] is True


class _FormFields(HTMLParser):
    """Collect what a browser would post from the first settings form of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = self._done = False
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""
        self._in_template = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form" and "settings-form" in a.get("class", "") and not self._done:
            self._in_form = True
        if tag == "template":
            self._in_template = True
        if not self._in_form or self._in_template:
            return
        if tag == "input" and "name" in a and "disabled" not in a:
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.fields.append((a["name"], "on"))
            else:
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self._in_template = False
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, self._text))
            self._textarea = None


def test_saving_each_seeded_demo_section_untouched_keeps_its_settings(app: Flask) -> None:
    with app.app_context():
        event_id = seed_demo().event_id
    before = _event(app, event_id)
    assert before["rubric"]["rules"] and before["routing"]["rules"]  # something to keep
    client = app.test_client()
    assert web_login(client, "marketer@example.com", DEMO_PASSWORD).status_code == 302
    for key in SECTIONS:
        page = client.get(f"/web/events/{event_id}/settings/{key}").get_data(as_text=True)
        parser = _FormFields()
        parser.feed(page)
        fields = dict(parser.fields)
        posted = MultiDict(parser.fields)
        assert "csrf_token" in fields
        response = client.post(f"/web/events/{event_id}/settings/{key}", data=posted)
        assert response.status_code == 302, (key, response.get_data(as_text=True)[:3000])
    after = _event(app, event_id)
    for name in ("questions", "products", "routing"):
        assert after[name] == before[name], name
    # Alerts: the defaults ({} meant email on, nothing else) are now written out.
    assert channel_values(after["alerts"]) == channel_values(before["alerts"])
    assert after["alerts"]["thank_you"]["enabled"] is False
    # The rubric is the same rules under the next version number.
    assert {**after["rubric"], "version": 1} == {**before["rubric"], "version": 1}
    assert after["rubric"]["version"] == before["rubric"]["version"] + 1


def test_removing_a_question_the_rubric_scores_warns_of_the_dead_rule(
    app: Flask, client: FlaskClient, booth: Booth, marketer: FlaskClient
) -> None:
    rubric = {"hot": 10, "warm": 5, "rules": [{"question": "budget", "equals": True, "points": 9}]}
    changed = client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"rubric": rubric},
        headers=booth.marketer.headers,
    )
    assert changed.status_code == 200
    data = _question_rows(_event(app, booth.event["id"])["questions"])
    data["questions-0-remove"] = "on"  # budget
    response = post_form(
        marketer, _page(booth, "questions"), data, token_from=_page(booth, "questions")
    )
    assert response.status_code == 302
    page = marketer.get(_page(booth, "questions")).get_data(as_text=True)
    assert "Questions saved" in page
    assert "The scoring rubric still has rules on budget" in page
    # Once the rubric scores only what exists, removing a question says nothing of the kind.
    rubric["rules"] = [{"product": "scanner", "points": 9}]
    client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"rubric": rubric},
        headers=booth.marketer.headers,
    )
    data = _question_rows(_event(app, booth.event["id"])["questions"])
    data["questions-0-remove"] = "on"
    _post(marketer, booth, "questions", data)
    page = marketer.get(_page(booth, "rubric")).get_data(as_text=True)
    assert "Questions saved" in page and "still has rules" not in page
