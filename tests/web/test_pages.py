"""Who may open which web page, CSRF on every form, and the forms' effects (test client)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.events.models import Event
from server.extensions import db
from server.leads.models import Lead, LeadStatus
from server.users.models import Role, User
from server.web.event_form import form_values
from tests.helpers import PASSWORD, ApiHelper, Booth, Person
from tests.web.webclient import csrf_token, post_form, web_login


def logged_in(app: Flask, person: Person) -> FlaskClient:
    """Return a new client with person logged in on the web."""
    client = app.test_client()
    response = web_login(client, person.email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def lead_routed_to(api: ApiHelper, booth: Booth, rep: Person, **fields: object) -> str:
    """Capture a lead on the booth tablet and give it to rep; return its id."""
    lead = api.capture(booth.tablet, booth.staff, **fields)
    response = api.client.patch(
        f"/api/v1/leads/{lead['id']}", json={"owner_id": rep.id}, headers=booth.marketer.headers
    )
    assert response.status_code == 200, response.json
    return lead["id"]


def test_root_sends_browsers_to_the_web_login(client: FlaskClient) -> None:
    assert client.get("/").location == "/web/"
    assert client.get("/web/").location == "/web/login"
    assert client.get("/api/docs").status_code == 200


@pytest.mark.parametrize(
    "path", ["/web/events", "/web/inbox", "/web/leads", "/web/users", "/web/compare"]
)
def test_pages_send_anonymous_visitors_to_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/web/login?next=" + path)


def test_wrong_password_starts_no_session(app: Flask, api: ApiHelper) -> None:
    person = api.person(Role.MARKETER)
    client = app.test_client()
    response = web_login(client, person.email, "not the password")
    assert response.status_code == 401
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert client.get("/web/events").status_code == 302
    assert web_login(client, "no-such@example.com").status_code == 401


@pytest.mark.parametrize(
    ("role", "home"),
    [(Role.ADMIN, "/web/events"), (Role.MARKETER, "/web/events"), (Role.REP, "/web/inbox")],
)
def test_each_role_lands_where_it_works(app: Flask, api: ApiHelper, role: Role, home: str) -> None:
    client = logged_in(app, api.person(role))
    assert client.get("/web/").location == home
    page = client.get(home).get_data(as_text=True)
    assert ("/api/docs" in page) == (role == Role.ADMIN)
    assert ('href="/web/users"' in page) == (role == Role.ADMIN)


def test_staff_get_a_page_saying_they_have_no_web_access(app: Flask, api: ApiHelper) -> None:
    client = logged_in(app, api.person(Role.STAFF))
    for path in ("/web/", "/web/events", "/web/leads", "/web/inbox", "/web/users"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Booth staff work on the tablets" in response.get_data(as_text=True)


PAGES = {
    # path template: roles that may open it
    "/web/events": {Role.ADMIN, Role.MARKETER},
    "/web/events/new": {Role.ADMIN, Role.MARKETER},
    "/web/events/{event}/edit": {Role.ADMIN, Role.MARKETER},
    "/web/events/{event}/team": {Role.ADMIN, Role.MARKETER},
    "/web/events/{event}/tablets": {Role.ADMIN, Role.MARKETER},
    # A rep on the team gets the event's view for reps: their leads of it, read-only facts.
    "/web/events/{event}": {Role.ADMIN, Role.MARKETER, Role.REP},
    "/web/events/{event}/dashboard.json": {Role.ADMIN, Role.MARKETER},
    "/web/compare": {Role.ADMIN, Role.MARKETER},
    # A rep on the event's team exports the leads they own (server/exports decides which).
    "/web/events/{event}/export.csv": {Role.ADMIN, Role.MARKETER, Role.REP},
    "/web/events/{event}/export.xlsx": {Role.ADMIN, Role.MARKETER, Role.REP},
    "/web/leads": {Role.ADMIN, Role.MARKETER, Role.REP},
    "/web/leads/{lead}": {Role.ADMIN, Role.MARKETER, Role.REP},
    "/web/inbox": {Role.REP},
    "/web/users": {Role.ADMIN},
    "/web/alerts": {Role.ADMIN},
    "/web/users/{admin}": {Role.ADMIN},
    "/web/account": {Role.ADMIN, Role.MARKETER, Role.REP},
}


def test_every_page_checks_the_role(app: Flask, api: ApiHelper, booth: Booth) -> None:
    lead = lead_routed_to(api, booth, booth.rep)
    ids = {"event": booth.event["id"], "lead": lead, "admin": booth.admin.id}
    people = {
        Role.ADMIN: booth.admin,
        Role.MARKETER: booth.marketer,
        Role.REP: booth.rep,
        Role.STAFF: booth.staff,
    }
    for role, person in people.items():
        client = logged_in(app, person)
        for template, allowed in PAGES.items():
            path = template.format(**ids)
            status = client.get(path).status_code
            if role in allowed:
                assert status == 200, (role, path, status)
            else:
                assert status == 403, (role, path, status)
    anonymous = app.test_client()
    for template in PAGES:
        path = template.format(**ids)
        expected = 401 if path.endswith(".json") else 302
        assert anonymous.get(path).status_code == expected, path


def test_a_rep_cannot_open_another_reps_lead(app: Flask, api: ApiHelper, booth: Booth) -> None:
    other_rep = api.person(Role.REP)
    theirs = lead_routed_to(api, booth, other_rep, first_name="Secret", last_name="Visitor")
    mine = lead_routed_to(api, booth, booth.rep, first_name="Mine")
    client = logged_in(app, booth.rep)
    response = client.get(f"/web/leads/{theirs}")
    assert response.status_code == 404
    assert "Secret" not in response.get_data(as_text=True)
    assert client.get(f"/web/leads/{mine}").status_code == 200
    assert client.get(f"/web/leads/{uuid.uuid4()}").status_code == 404
    assert client.get("/web/leads/not-a-uuid").status_code == 404
    # Nor change it: acknowledging by URL is a 404 and changes nothing.
    refused = post_form(client, f"/web/leads/{theirs}/acknowledge", {})
    assert refused.status_code == 404
    with app.app_context():
        assert db.session.get(Lead, uuid.UUID(theirs)).status == LeadStatus.ASSIGNED
    listed = client.get("/web/leads").get_data(as_text=True)
    inbox = client.get("/web/inbox").get_data(as_text=True)
    for page in (listed, inbox):
        assert "Mine" in page
        assert "Secret" not in page


def test_forms_without_the_csrf_token_are_refused(app: Flask, api: ApiHelper, booth: Booth) -> None:
    lead = lead_routed_to(api, booth, booth.rep)
    anonymous = app.test_client()
    login = anonymous.post("/web/login", data={"email": booth.rep.email, "password": "x"})
    assert login.status_code == 400
    rep = logged_in(app, booth.rep)
    response = rep.post(f"/web/leads/{lead}/acknowledge", data={})
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)
    forged = rep.post(f"/web/leads/{lead}/acknowledge", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    with app.app_context():
        assert db.session.get(Lead, uuid.UUID(lead)).acknowledged_at is None
    marketer = logged_in(app, booth.marketer)
    assert marketer.post("/web/events/new", data={"name": "No token"}).status_code == 400
    assert marketer.post("/web/logout").status_code == 400
    # The bearer-token API stays CSRF-free.
    api_login = app.test_client().post(
        "/api/v1/auth/login", json={"email": booth.rep.email, "password": "correct horse battery"}
    )
    assert api_login.status_code == 201


def test_rep_acknowledges_in_one_click_and_moves_the_lead_on(
    app: Flask, api: ApiHelper, booth: Booth
) -> None:
    lead = lead_routed_to(api, booth, booth.rep)
    client = logged_in(app, booth.rep)
    inbox = client.get("/web/inbox").get_data(as_text=True)
    assert f"/web/leads/{lead}/acknowledge" in inbox
    response = post_form(client, f"/web/leads/{lead}/acknowledge", {"back": "inbox"})
    assert response.location == "/web/inbox"
    timeline = client.get(f"/api/v1/leads/{lead}/timeline", headers=booth.rep.headers).json
    assert timeline[-1]["kind"] == "acknowledged"
    assert timeline[-1]["actor_user"]["id"] == booth.rep.id
    # Disqualifying without a reason is refused by the lifecycle rules, and shown.
    refused = post_form(client, f"/web/leads/{lead}/outcome", {"status": "disqualified"})
    assert refused.status_code == 302
    page = client.get(f"/web/leads/{lead}").get_data(as_text=True)
    assert "Give a reason when disqualifying a lead." in page
    post_form(client, f"/web/leads/{lead}/outcome", {"status": "contacted"})
    post_form(client, f"/web/leads/{lead}/outcome", {"status": "won", "value": "1500.50"})
    with app.app_context():
        stored = db.session.get(Lead, uuid.UUID(lead))
        assert stored.status == LeadStatus.WON
        assert str(stored.deal_value) == "1500.50"
        assert stored.first_contact_at is not None


def test_a_deactivated_users_session_ends(app: Flask, api: ApiHelper) -> None:
    marketer = api.person(Role.MARKETER)
    client = logged_in(app, marketer)
    assert client.get("/web/events").status_code == 200
    with app.app_context():
        db.session.get(User, marketer.id).active = False
        db.session.commit()
    assert client.get("/web/events").status_code == 302


def test_logout_ends_the_session(app: Flask, api: ApiHelper) -> None:
    client = logged_in(app, api.person(Role.MARKETER))
    assert post_form(client, "/web/logout", {}).location == "/web/login"
    assert client.get("/web/events").status_code == 302


def test_login_redirects_only_to_web_pages(app: Flask, api: ApiHelper) -> None:
    person = api.person(Role.MARKETER)
    for target, landing in [
        ("/web/leads?q=x", "/web/leads?q=x"),
        ("https://evil.example/web/", "/web/"),
        ("//evil.example/web/", "/web/"),
        ("/api/v1/users", "/web/"),
    ]:
        client = app.test_client()
        token = csrf_token(client)
        response = client.post(
            "/web/login",
            data={
                "email": person.email,
                "password": "correct horse battery",
                "next": target,
                "csrf_token": token,
            },
        )
        assert response.location == landing, target


def test_web_login_is_rate_limited(api: ApiHelper, app_factory: Callable[..., Flask]) -> None:
    person = api.person(Role.MARKETER)
    limited = app_factory(
        LEADBRIDGE_RATELIMIT_ENABLED=True, LEADBRIDGE_RATELIMIT_LOGIN="3 per minute"
    )
    client = limited.test_client()
    statuses = [web_login(client, person.email, "wrong password").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    blocked = web_login(client, person.email)
    assert blocked.status_code == 429
    assert "Slow down" in blocked.get_data(as_text=True)
    assert client.get("/web/events").status_code == 302


EVENT_FORM = {
    "name": "Web Expo",
    "venue": "Hall 3",
    "starts_on": "2026-11-23",
    "ends_on": "2026-11-25",
    "timezone": "America/New_York",
    "country": "US",
    "booth": "C7",
    "campaign_code": "",
    "target_leads": "200",
    "target_hot_leads": "40",
    "cost": "15000",
    "currency": "usd",
    "escalation_minutes": "20",
    "consent_text": "You may contact me.",
    "questions": '[{"id": "budget", "label": "Budget?", "type": "yes_no"}]',
    "products": '[{"id": "scanner", "name": "Scanner"}]',
    "rubric": '{"hot": 10, "warm": 5, "rules": [{"question": "budget", "equals": true,'
    ' "points": 10, "reason": "Has budget"}]}',
    "routing": '{"rules": []}',
}


def _event_id(location: str) -> int:
    found = re.search(r"/web/events/(\d+)/edit", location)
    assert found, location
    return int(found.group(1))


def test_marketer_creates_and_edits_an_event_through_the_api_schema(
    app: Flask, api: ApiHelper
) -> None:
    client = logged_in(app, api.person(Role.MARKETER))
    created = post_form(client, "/web/events/new", EVENT_FORM)
    assert created.status_code == 302, created.get_data(as_text=True)
    event_id = _event_id(created.location)
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.questions[0]["id"] == "budget"
        assert event.currency == "USD"
        assert event.rubric["version"] == 1
        assert event.consent_version == 1
        assert event.campaign_code is None
    # Saving the form untouched makes no new rubric or consent version.
    form = {**EVENT_FORM, "active": "on"}
    saved = post_form(client, f"/web/events/{event_id}/edit", form)
    assert saved.status_code == 302
    changed_rubric = EVENT_FORM["rubric"].replace('"points": 10', '"points": 7')
    post_form(
        client,
        f"/web/events/{event_id}/edit",
        {**form, "rubric": changed_rubric, "consent_text": "New wording."},
    )
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.rubric["version"] == 2
        assert event.rubric["rules"][0]["points"] == 7
        assert event.consent_version == 2
        assert event.active


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ({"questions": "[{"}, "Not valid JSON"),
        ({"questions": '[{"id": "x", "label": "X", "type": "dance"}]'}, "Must be one of"),
        ({"rubric": '{"hot": 1, "warm": 5, "rules": []}'}, "warm threshold cannot be above"),
        (
            {
                "rubric": '{"hot": 9, "warm": 5, "rules": [{"question": "nope", "equals": 1,'
                ' "points": 1}]}'
            },
            "this event has no question nope",
        ),
        ({"ends_on": "2026-11-01"}, "cannot end before it starts"),
        ({"timezone": "Mars/Olympus"}, "IANA time zone"),
        ({"target_leads": "many"}, "Not a valid integer"),
    ],
)
def test_event_form_shows_the_schemas_errors_inline(
    app: Flask, api: ApiHelper, change: dict[str, str], shown: str
) -> None:
    client = logged_in(app, api.person(Role.MARKETER))
    response = post_form(client, "/web/events/new", {**EVENT_FORM, **change})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert shown in page
    assert "Web Expo" in page  # what was typed is kept
    with app.app_context():
        assert db.session.query(Event).count() == 0


def test_pairing_code_and_qr_pair_a_tablet_and_revoke_stops_it(
    app: Flask, api: ApiHelper, booth: Booth
) -> None:
    client = logged_in(app, booth.marketer)
    path = f"/web/events/{booth.event['id']}/tablets"
    response = post_form(client, path + "/pair", {"minutes": "60"}, token_from=path)
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    code = re.search(r'id="pairing-code">([0-9A-Z-]+)<', page).group(1)
    assert "<svg" in page
    paired = app.test_client().post("/api/v1/devices/pair", json={"code": code, "name": "Booth B"})
    assert paired.status_code == 201
    device_id = paired.json["device"]["id"]
    headers = {"Authorization": f"Bearer {paired.json['token']}"}
    listing = client.get(path).get_data(as_text=True)
    assert "Booth B" in listing
    post_form(client, f"{path}/{device_id}/revoke", {}, token_from=path)
    assert app.test_client().get("/api/v1/events", headers=headers).status_code == 401
    assert "revoked" in client.get(path).get_data(as_text=True)
    # A tablet of another event cannot be revoked through this event's page.
    other = api.event(booth.marketer, name="Other")
    wrong = post_form(client, f"/web/events/{other['id']}/tablets/{booth.tablet.id}/revoke", {})
    assert wrong.status_code == 404


def test_admin_invites_a_rep_who_can_then_log_in(app: Flask, api: ApiHelper) -> None:
    admin = api.person(Role.ADMIN)
    client = logged_in(app, admin)
    response = post_form(
        client,
        "/web/users",
        {
            "email": "New.Rep@Example.com",
            "name": "New Rep",
            "role": "rep",
            "territory": "DE, AT",
            "products": "scanner",
            "daily_capacity": "12",
        },
    )
    assert response.status_code == 201
    password = re.search(r'id="invite-password">([^<]+)<', response.get_data(as_text=True))[1]
    rep_client = app.test_client()
    assert web_login(rep_client, "new.rep@example.com", password).location == "/web/"
    with app.app_context():
        rep = db.session.query(User).filter_by(email="new.rep@example.com").one()
        assert (rep.territory, rep.products, rep.daily_capacity) == (["DE", "AT"], ["scanner"], 12)
        rep_id = rep.id
    # Deactivating them ends their session; an admin cannot deactivate themselves.
    post_form(client, f"/web/users/{rep_id}", {"name": "New Rep", "role": "rep"})
    assert rep_client.get("/web/inbox").status_code == 302
    own = post_form(client, f"/web/users/{admin.id}", {"name": "Me", "role": "rep", "active": "on"})
    assert own.status_code == 409
    duplicate = post_form(
        client, "/web/users", {"email": "new.rep@example.com", "name": "Again", "role": "rep"}
    )
    assert duplicate.status_code == 409


def test_lead_list_applies_the_api_filters(app: Flask, api: ApiHelper, booth: Booth) -> None:
    api.capture(booth.tablet, booth.staff, first_name="Hotty", rating="hot")
    api.capture(booth.tablet, booth.staff, first_name="Coldy", rating="cold", company="Ice AG")
    client = logged_in(app, booth.marketer)
    hot = client.get("/web/leads?rating=hot").get_data(as_text=True)
    assert "Hotty" in hot and "Coldy" not in hot
    found = client.get("/web/leads?q=ice").get_data(as_text=True)
    assert "Coldy" in found and "Hotty" not in found
    bad = client.get("/web/leads?status=sleeping")
    assert bad.status_code == 422
    empty = client.get(f"/web/leads?event_id={booth.event['id']}&q=nobody").get_data(as_text=True)
    assert "No leads match these filters" in empty


def test_changing_ones_password_ends_other_sessions(app: Flask, api: ApiHelper) -> None:
    rep = api.person(Role.REP)
    here, elsewhere = logged_in(app, rep), logged_in(app, rep)
    wrong = post_form(
        here,
        "/web/account",
        {"current": "not it", "password": "a new password", "repeat": "a new password"},
    )
    assert wrong.status_code == 422
    short = post_form(
        here, "/web/account", {"current": PASSWORD, "password": "short", "repeat": "short"}
    )
    assert short.status_code == 422
    changed = post_form(
        here,
        "/web/account",
        {"current": PASSWORD, "password": "a new password", "repeat": "a new password"},
    )
    assert changed.status_code == 302
    assert here.get("/web/inbox").status_code == 200
    assert elsewhere.get("/web/inbox").status_code == 302
    assert web_login(app.test_client(), rep.email, "a new password").status_code == 302


def test_dashboard_shows_an_empty_state_then_the_stats(
    app: Flask, api: ApiHelper, booth: Booth
) -> None:
    client = logged_in(app, booth.marketer)
    path = f"/web/events/{booth.event['id']}"
    assert "No leads yet" in client.get(path).get_data(as_text=True)
    empty = client.get(path + "/dashboard.json").json
    assert empty["total"] == 0
    api.capture(booth.tablet, booth.staff, rating="hot")
    api.capture(booth.tablet, booth.staff, rating="cold")
    response = client.get(path + "/dashboard.json")
    assert response.headers["Cache-Control"] == "no-store"
    figures = response.json
    assert figures["total"] == 2
    assert 'data-figure="leads">2<' in figures["html"]
    assert "Leads per hour" in figures["html"]
    assert "No leads yet" not in figures["html"]


def test_compare_and_exports_check_each_event(app: Flask, api: ApiHelper, booth: Booth) -> None:
    other = api.event(booth.marketer, name="Elsewhere Fair")
    marketer = logged_in(app, booth.marketer)
    page = marketer.get(f"/web/compare?event={booth.event['id']}&event={other['id']}")
    assert page.status_code == 200
    assert "Elsewhere Fair" in page.get_data(as_text=True)
    assert marketer.get("/web/compare?event=999999").status_code == 404
    # A rep exports only events they work on, and only their own leads there.
    mine = lead_routed_to(api, booth, booth.rep, first_name="Mine")
    lead_routed_to(api, booth, api.person(Role.REP), first_name="Theirs")
    rep = logged_in(app, booth.rep)
    assert rep.get(f"/web/events/{other['id']}/export.csv").status_code == 404
    exported = rep.get(f"/web/events/{booth.event['id']}/export.csv").get_data(as_text=True)
    assert mine in exported
    assert "Theirs" not in exported
    assert rep.get(f"/web/events/{booth.event['id']}/export.pdf").status_code == 404


def test_disqualifying_takes_one_of_the_events_reasons(
    app: Flask, api: ApiHelper, booth: Booth
) -> None:
    marketer = logged_in(app, booth.marketer)
    event_id = booth.event["id"]
    with app.app_context():
        # The form as the settings page fills it in, with new reasons typed.
        form = form_values(db.session.get(Event, event_id))
    form["disqualification_reasons"] = "Too small\n\n  Already a customer  \n"
    saved = post_form(marketer, f"/web/events/{event_id}/edit", form)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    with app.app_context():
        reasons = db.session.get(Event, event_id).disqualification_reasons
        assert reasons == ["Too small", "Already a customer"]
    duplicate = post_form(
        marketer, f"/web/events/{event_id}/edit", {**form, "disqualification_reasons": "A\na"}
    )
    assert duplicate.status_code == 422
    assert "Reasons must be unique." in duplicate.get_data(as_text=True)

    lead = lead_routed_to(api, booth, booth.rep)
    rep = logged_in(app, booth.rep)
    page = rep.get(f"/web/leads/{lead}").get_data(as_text=True)
    assert '<option value="Too small">' in page
    post_form(rep, f"/web/leads/{lead}/outcome", {"status": "disqualified", "reason": "Bored"})
    refused = rep.get(f"/web/leads/{lead}").get_data(as_text=True)
    assert "Too small" in refused and "flash-error" in refused
    post_form(rep, f"/web/leads/{lead}/outcome", {"status": "disqualified", "reason": "too SMALL"})
    with app.app_context():
        stored = db.session.get(Lead, uuid.UUID(lead))
        assert stored.status == LeadStatus.DISQUALIFIED
        assert stored.status_reason == "Too small"


def test_the_lead_page_shows_the_consent_record(
    app: Flask, api: ApiHelper, booth: Booth, client: FlaskClient
) -> None:
    text = client.post(
        f"/api/v1/privacy/events/{booth.event['id']}/consent-texts",
        json={"language": "de", "text": "Sie dürfen mich kontaktieren."},
        headers=booth.marketer.headers,
    ).json
    consent = {
        "given": True,
        "version": text["version"],
        "language": "de",
        "purposes": ["marketing_email"],
        "at": "2026-11-23T10:59:00+01:00",
    }
    lead = api.capture(booth.tablet, booth.staff, consent=consent)
    page = logged_in(app, booth.marketer).get(f"/web/leads/{lead['id']}")
    shown = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "de," in shown and "purposes: marketing email" in shown
    assert "Sie dürfen mich kontaktieren." in shown


def test_the_lead_page_shows_a_merged_capture_with_its_author(
    app: Flask, api: ApiHelper, booth: Booth
) -> None:
    first = api.capture(booth.tablet, booth.staff, email="ann@example.com", rating="warm")
    other = api.person(Role.STAFF, name="Second Staffer")
    api.add_member(booth.marketer, booth.event["id"], other.id)
    api.capture(booth.tablet, other, email="ann@example.com", notes="Came back with her boss")
    shown = logged_in(app, booth.marketer).get(f"/web/leads/{first['id']}").get_data(as_text=True)
    assert "captured again by Second Staffer" in shown and "Came back with her boss" in shown


def test_admins_see_undelivered_alerts_and_retry_them(
    app: Flask, api: ApiHelper, booth: Booth
) -> None:
    from server.alerts.models import AlertJob, JobStatus

    api.capture(booth.tablet, booth.staff)
    with app.app_context():
        job = db.session.scalars(sa.select(AlertJob)).first()
        job.status, job.attempts, job.last_error = JobStatus.DEAD, 8, "HTTP 503 from the receiver"
        db.session.commit()
        job_id = job.id
    admin = logged_in(app, booth.admin)
    shown = admin.get("/web/alerts").get_data(as_text=True)
    assert "HTTP 503 from the receiver" in shown and "***@" in shown  # the address masked
    assert booth.rep.email not in shown
    retried = post_form(admin, f"/web/alerts/{job_id}/retry", {}, token_from="/web/alerts")
    assert retried.status_code == 302
    with app.app_context():
        assert db.session.get(AlertJob, job_id).status == JobStatus.PENDING
    again = post_form(admin, f"/web/alerts/{job_id}/retry", {}, token_from="/web/alerts")
    assert again.status_code == 302  # refused (not dead) with a message, nothing changed
    assert "Every alert so far was delivered" in admin.get("/web/alerts").get_data(as_text=True)
    rep = logged_in(app, booth.rep)
    assert post_form(rep, f"/web/alerts/{job_id}/retry", {}).status_code == 403
