"""HubSpot end to end: leads pushed through the outbox to a loopback HubSpot, faults, outcomes back.

The loopback server (tests/crm_peers.py) answers as HubSpot's CRM v3 reference documents,
with the bodies of tests/contracts/hubspot.json; the connector is hubspot-api-client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from server.alerts.dispatcher import Dispatcher
from server.alerts.models import JobStatus
from server.crm import outcomes
from server.crm.hubspot import HubSpotConnector
from server.crm.models import CrmConnection, CrmRecord
from server.crm.poller import OutcomePoller
from server.db_types import utcnow
from server.extensions import db
from server.leads.models import Activity, ActivityKind, Lead, LeadStatus
from tests.alerting import Clock
from tests.crm_peers import FakeHubSpot, Recorded
from tests.crm_setup import (
    TOKEN,
    connect,
    crm_jobs,
    deliver_until_settled,
    smtp,  # noqa: F401 (the dispatcher's fixture)
)
from tests.helpers import ApiHelper, Booth


@pytest.fixture
def hubspot(booth: Booth) -> Iterator[FakeHubSpot]:
    """Run a loopback HubSpot that knows the booth's rep as an owner."""
    with FakeHubSpot(TOKEN, hang_seconds=1.5) as fake:
        fake.rep_owner_id = fake.add_owner(booth.rep.email)
        yield fake


@pytest.fixture
def connected(client: FlaskClient, booth: Booth, hubspot: FakeHubSpot) -> dict:
    """Connect the booth's event to the loopback HubSpot."""
    return connect(client, booth, "hubspot", hubspot.url, webhook_secret="client-secret")


@pytest.fixture
def delivered(
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
) -> tuple[dict, str]:
    """Capture a lead at the connected booth, deliver it; return it and its contact id."""
    lead = capture(api, booth)
    deliver_until_settled(dispatcher, clock)
    [contact_id] = hubspot.by_email(lead["email"])
    return lead, contact_id


def capture(api: ApiHelper, booth: Booth, **overrides: object) -> dict:
    """Capture a lead at the booth (it routes to the booth's only rep)."""
    return api.capture(booth.tablet, booth.staff, **overrides)


def record_of(app: Flask, lead_id: str) -> CrmRecord:
    with app.app_context():
        record = db.session.scalar(
            db.select(CrmRecord).where(CrmRecord.lead_id == __import__("uuid").UUID(lead_id))
        )
        assert record is not None
        db.session.expunge(record)
        return record


def test_a_lead_becomes_a_contact_with_its_context(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    lead = capture(api, booth, notes="Wants a demo next week.")
    deliver_until_settled(dispatcher, clock)

    [contact_id] = hubspot.by_email(lead["email"])
    properties = hubspot.contacts[contact_id]["properties"]
    assert properties["firstname"] == "Ann" and properties["company"] == "Example GmbH"
    assert properties["leadbridge_source"] == "Trade Show"
    assert properties["leadbridge_campaign"] == "TEST-26"
    # The owner mapped from the leadbridge rep to the HubSpot user by email.
    assert properties["hubspot_owner_id"] == hubspot.rep_owner_id
    [note] = hubspot.notes.values()
    assert note["contacts"] == [contact_id]
    body = note["properties"]["hs_note_body"]
    for expected in (
        "Test Expo",
        "Booth: B1",
        "Budget?: Yes",
        "Wants a demo",
        "Scanner",
        "Consent: given, wording version 1",
        "Score:",
    ):
        assert expected in body
    assert record_of(app, lead["id"]).record_id == contact_id
    with app.app_context():
        [job] = crm_jobs()
        assert job.status == JobStatus.DELIVERED
        synced = db.session.scalars(
            db.select(Activity).where(Activity.kind == ActivityKind.CRM_SYNCED)
        ).all()
        assert [a.detail["record_id"] for a in synced] == [contact_id]


def person_calls(hubspot: FakeHubSpot) -> list[tuple[str, str]]:
    """Return the contact calls made, but for the outcome poll's searches by modification."""
    return [
        (c.method, c.path)
        for c in hubspot.calls(prefix="/crm/v3/objects/contacts")
        if "lastmodifieddate" not in json.dumps(c.body)
    ]


def test_a_new_contact_is_one_call_on_the_way_to_hubspot(
    hubspot: FakeHubSpot, delivered: tuple[dict, str]
):
    # The fewer calls before the create, the fewer a throttle or a failure can delay.
    assert person_calls(hubspot) == [("POST", "/crm/v3/objects/contacts")]


@pytest.mark.parametrize("conflict_names_id", [True, False])
def test_an_existing_contact_is_found_by_email_and_updated(
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
    conflict_names_id: bool,
):
    hubspot.conflict_names_id = conflict_names_id
    existing = hubspot.new_id()
    hubspot._write_contact(existing, {"email": "ann.known@example.com", "firstname": "A."})
    capture(api, booth, email="ann.known@example.com")
    deliver_until_settled(dispatcher, clock)

    assert hubspot.by_email("ann.known@example.com") == [existing]
    assert hubspot.contacts[existing]["properties"]["firstname"] == "Ann"
    # The create met HubSpot's unique-email check; without an id in its 409, a read by email.
    read = [("GET", "/crm/v3/objects/contacts/ann.known@example.com")] * (not conflict_names_id)
    contact_calls = person_calls(hubspot)
    assert contact_calls == [
        ("POST", "/crm/v3/objects/contacts"),
        *read,
        ("PATCH", f"/crm/v3/objects/contacts/{existing}"),
    ]


def test_a_lead_without_email_is_found_by_phone(
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    existing = hubspot.new_id()
    hubspot._write_contact(existing, {"phone": "+49301234567", "firstname": "A."})
    capture(api, booth, email=None, phone="030 1234567")
    deliver_until_settled(dispatcher, clock)

    assert list(hubspot.contacts) == [existing]
    assert hubspot.contacts[existing]["properties"]["firstname"] == "Ann"


def test_a_429_waits_as_long_as_retry_after_says(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    hubspot.contract["rate_limited"]["response"]["headers"]["Retry-After"] = "30"
    hubspot.fail_only, hubspot.fail_next = "POST /crm/v3/objects/contacts$", ["429"]
    lead = capture(api, booth)
    dispatcher.run_once()
    with app.app_context():
        [job] = crm_jobs()
        assert job.status == JobStatus.PENDING and "429" in job.last_error
        # The backoff alone would be at most a second or two: Retry-After is the floor.
        assert job.next_attempt_at >= clock() + timedelta(seconds=29)
    clock.advance(seconds=20)
    dispatcher.run_once()
    assert hubspot.by_email(lead["email"]) == []
    clock.advance(seconds=11)
    dispatcher.run_once()
    assert len(hubspot.by_email(lead["email"])) == 1


def _rounds_while_down(app: Flask, dispatcher: Dispatcher, clock: Clock, hours: float) -> None:
    """Run dispatcher rounds, each at its job's next attempt, for hours of the test clock."""
    until = clock() + timedelta(hours=hours)
    for _ in range(1000):  # a bound: the backoff's cap makes it about 6 an hour
        dispatcher.run_once()
        with app.app_context():
            [job] = crm_jobs()
            if job.status != JobStatus.PENDING or job.next_attempt_at >= until:
                return
            clock.now = max(clock.now, job.next_attempt_at)


def test_a_crm_down_for_an_hour_gets_the_lead_when_it_is_back(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    hubspot.fault_rates = {"500": 1.0}  # every call, the outcome polls' too
    lead = capture(api, booth)
    _rounds_while_down(app, dispatcher, clock, hours=1)
    with app.app_context():
        [job] = crm_jobs()
        # Far more tries than an alert gets (5 here), and still pending.
        assert job.status == JobStatus.PENDING and job.attempts > 5, job.attempts
    hubspot.fault_rates = {}
    deliver_until_settled(dispatcher, clock, step=600)
    assert len(hubspot.by_email(lead["email"])) == 1
    with app.app_context():
        [job] = crm_jobs()
        assert job.status == JobStatus.DELIVERED and job.failing_since is None


@pytest.mark.usefixtures("smtp")  # the dispatcher's settings
def test_a_crm_down_for_longer_than_the_retry_window_dead_letters_the_push(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    connected: dict,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setitem(app.config, "LEADBRIDGE_CRM_RETRY_HOURS", 2)
    dispatcher = Dispatcher(app, clock=clock)
    hubspot.fault_rates = {"500": 1.0}
    capture(api, booth)
    _rounds_while_down(app, dispatcher, clock, hours=1.5)
    with app.app_context():
        assert crm_jobs()[0].status == JobStatus.PENDING
    _rounds_while_down(app, dispatcher, clock, hours=1)
    with app.app_context():
        [job] = crm_jobs()
        assert job.status == JobStatus.DEAD and "500" in job.last_error


def test_a_401_is_a_dead_letter_with_a_clear_reason_and_can_be_retried(
    app: Flask,
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    hubspot.valid_tokens = {"pat-rotated"}
    lead = capture(api, booth)
    dispatcher.run_once()
    dead = client.get("/api/v1/alerts?status=dead&kind=crm_sync", headers=booth.admin.headers)
    [item] = dead.json["items"]
    assert item["attempts"] == 1, "a refused token is not retried"
    assert "401" in item["last_error"] and "credentials were refused" in item["last_error"]
    assert item["target"] == "hubspot"

    # The admin enters the new token, then retries from the Undelivered page's API.
    connect(client, booth, "hubspot", hubspot.url, token="pat-rotated")
    retried = client.post(f"/api/v1/alerts/{item['id']}/retry", headers=booth.admin.headers)
    assert retried.status_code == 200
    deliver_until_settled(dispatcher, clock)
    assert len(hubspot.by_email(lead["email"])) == 1


def test_5xx_answers_are_retried_until_delivered(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    # Each attempt's create is tried twice (once more at once, safe with an email, which
    # HubSpot keeps unique): two attempts fail.
    hubspot.fail_only = "POST /crm/v3/objects/contacts$"
    hubspot.fail_next = ["500", "500", "500", "500"]
    lead = capture(api, booth)
    dispatcher.run_once()
    with app.app_context():
        assert crm_jobs()[0].status == JobStatus.PENDING
    deliver_until_settled(dispatcher, clock)
    assert len(hubspot.by_email(lead["email"])) == 1
    with app.app_context():
        [job] = crm_jobs()
        assert job.status == JobStatus.DELIVERED and job.attempts == 3
    assert person_calls(hubspot) == [("POST", "/crm/v3/objects/contacts")] * 5


@pytest.mark.parametrize("identity", ["email", "phone"])
def test_a_timeout_after_the_create_reached_hubspot_does_not_duplicate(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
    identity: str,
):
    # The first round's poll of outcomes goes first; then the lead's own calls.
    dispatcher.run_once()
    # The create times out after writing (a phone-only lead's search passes first).
    hubspot.fail_only = "POST /crm/v3/objects/contacts"
    # An email lead's create is repeated once at once (HubSpot's 409 names the contact it
    # made): both time out here, so the outbox's next attempt has to find the contact.
    hubspot.fail_next = ["timeout", "timeout"] if identity == "email" else [None, "timeout"]
    if identity == "email":
        lead = capture(api, booth)
    else:
        lead = capture(api, booth, email=None, phone="030 7654321")
    dispatcher.run_once()
    with app.app_context():
        [job] = crm_jobs()
        assert job.status == JobStatus.PENDING and "Timeout" in job.last_error
    assert len(hubspot.contacts) == 1, "the create reached HubSpot before the timeout"
    time.sleep(1.2)  # the fake finishes its late answer
    deliver_until_settled(dispatcher, clock)
    assert len(hubspot.contacts) == 1
    [contact] = hubspot.contacts.values()
    assert contact["properties"].get("email") == (lead["email"] if identity == "email" else None)
    with app.app_context():
        assert crm_jobs()[0].status == JobStatus.DELIVERED


def test_a_create_repeated_after_a_timeout_meets_the_409_and_updates(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    dispatcher.run_once()
    hubspot.fail_only, hubspot.fail_next = "POST /crm/v3/objects/contacts", ["timeout"]
    lead = capture(api, booth)
    dispatcher.run_once()
    with app.app_context():
        assert crm_jobs()[0].status == JobStatus.DELIVERED
    creates = [
        c for c in hubspot.calls("POST", "/crm/v3/objects/contacts") if c.path.endswith("contacts")
    ]
    assert len(creates) == 2
    [contact_id] = hubspot.by_email(lead["email"])
    assert hubspot.calls("PATCH", f"/crm/v3/objects/contacts/{contact_id}")


def test_a_timeout_after_the_record_is_known_updates_that_record(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    hubspot.fail_only = "POST /crm/v3/objects/notes"
    hubspot.fail_next = ["timeout"]
    lead = capture(api, booth)
    seen_while_noting: list[str | None] = []

    def look(request: Recorded) -> None:
        # What leadbridge's database holds while the note is on its way (another connection).
        if request.path == "/crm/v3/objects/notes" and not seen_while_noting:
            seen_while_noting.append(record_of(app, lead["id"]).record_id)

    hubspot.on_request = look
    dispatcher.run_once()
    [contact_id] = hubspot.by_email(lead["email"])
    assert seen_while_noting == [contact_id], "the record id is committed before the note goes"
    time.sleep(1.2)  # the fake finishes its late answer
    reads_before = len(hubspot.calls("GET", "/crm/v3/objects/contacts"))
    deliver_until_settled(dispatcher, clock)
    assert hubspot.by_email(lead["email"]) == [contact_id]
    assert len(hubspot.calls("GET", "/crm/v3/objects/contacts")) == reads_before
    assert hubspot.calls("PATCH", f"/crm/v3/objects/contacts/{contact_id}")
    assert len(hubspot.notes) == 2, "the note timed out after its write: sent again"


def test_an_edit_and_a_new_owner_update_the_contact(
    app: Flask,
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    lead = capture(api, booth)
    deliver_until_settled(dispatcher, clock)
    edited = client.patch(
        f"/api/v1/leads/{lead['id']}",
        json={"company": "Renamed AG"},
        headers=booth.marketer.headers,
    )
    assert edited.status_code == 200, edited.json
    deliver_until_settled(dispatcher, clock)
    [contact_id] = hubspot.by_email(lead["email"])
    assert hubspot.contacts[contact_id]["properties"]["company"] == "Renamed AG"
    assert len(hubspot.notes) == 1, "a company change needs no second note"
    record = record_of(app, lead["id"])
    assert (record.wanted, record.pushed) == (2, 2)


def test_a_merged_capture_updates_the_contact_and_adds_its_context(
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    first = capture(api, booth, email="same.person@example.com")
    deliver_until_settled(dispatcher, clock)
    capture(api, booth, email="same.person@example.com", notes="Came back with a colleague.")
    deliver_until_settled(dispatcher, clock)
    assert len(hubspot.by_email(first["email"])) == 1
    assert len(hubspot.notes) == 2
    assert any(
        "Came back with a colleague" in n["properties"]["hs_note_body"]
        for n in hubspot.notes.values()
    )


@pytest.mark.parametrize(
    "consent",
    [
        {"given": False},
        {"given": True, "version": 1, "purposes": ["marketing_email"]},
    ],
)
def test_consent_without_sales_follow_up_is_not_pushed(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
    consent: dict,
):
    capture(api, booth, consent=consent)
    deliver_until_settled(dispatcher, clock)
    with app.app_context():
        assert crm_jobs() == []
    assert hubspot.contacts == {}


def test_consent_for_sales_follow_up_is_pushed(
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    consent = {"given": True, "version": 1, "purposes": ["sales_follow_up"]}
    lead = capture(api, booth, consent=consent)
    deliver_until_settled(dispatcher, clock)
    assert len(hubspot.by_email(lead["email"])) == 1


def _poll_now(app: Flask) -> None:
    with app.app_context():
        db.session.execute(db.update(CrmConnection).values(polled_at=None))
        db.session.commit()


def test_outcomes_come_back_through_the_lifecycle(
    app: Flask,
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    hubspot: FakeHubSpot,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    contacted, won, lost = (capture(api, booth) for _ in range(3))
    deliver_until_settled(dispatcher, clock)
    ids = {lead["id"]: hubspot.by_email(lead["email"])[0] for lead in (contacted, won, lost)}
    hubspot.set_lead_status(ids[contacted["id"]], "CONNECTED")
    hubspot.add_deal(ids[won["id"]], "closedwon", amount="1500.00")
    hubspot.add_deal(ids[lost["id"]], "closedlost", reason="Chose a competitor")
    _poll_now(app)
    dispatcher.run_once()

    with app.app_context():
        status = {str(lead.id): lead for lead in db.session.scalars(db.select(Lead))}
        assert status[contacted["id"]].status == LeadStatus.CONTACTED
        assert status[won["id"]].status == LeadStatus.WON
        assert str(status[won["id"]].deal_value) == "1500.00"
        assert status[lost["id"]].status == LeadStatus.LOST
        assert status[lost["id"]].status_reason == "Chose a competitor"
        changes = db.session.scalars(
            db.select(Activity).where(Activity.kind == ActivityKind.STATUS_CHANGED)
        ).all()
        assert {a.detail["crm"] for a in changes} == {"hubspot"}
    stats = client.get(f"/api/v1/events/{booth.event['id']}/stats", headers=booth.marketer.headers)
    funnel = {stage["stage"]: stage["leads"] for stage in stats.json["funnel"]}
    assert funnel["contacted"] >= 2 and funnel["won"] == 1

    # The same changes read again change nothing.
    _poll_now(app)
    dispatcher.run_once()
    with app.app_context():
        assert (
            db.session.scalar(
                db.select(db.func.count())
                .select_from(Activity)
                .where(Activity.kind == ActivityKind.STATUS_CHANGED)
            )
            == 3
        )


def test_two_polls_at_once_apply_one_change_once(
    app: Flask,
    hubspot: FakeHubSpot,
    connected: dict,
    delivered: tuple[dict, str],
):
    """A webhook made the next poll due while one ran: both read the change, one applies it."""
    lead, contact_id = delivered
    hubspot.set_lead_status(contact_id, "CONNECTED")
    # Both polls have read the change before either applies it; each then holds its
    # transaction open until the other has applied too, or 2 s passed (it waits on a row).
    both_read = threading.Barrier(2, timeout=10)
    both_applied = threading.Barrier(2, timeout=2)

    def after_reading(call: Recorded) -> None:
        if call.path == "/crm/v3/objects/deals/search":
            both_read.wait()

    def before_commit(session: Session) -> None:
        try:
            both_applied.wait()
        except threading.BrokenBarrierError:
            pass  # the other poll is waiting for this one's commit

    applied: list[int] = []

    def poll() -> None:
        with app.app_context():
            connection = db.session.get_one(CrmConnection, connected["id"])
            applied.append(outcomes.poll(app, connection))

    hubspot.on_request = after_reading
    event.listen(Session, "before_commit", before_commit)
    try:
        polls = [threading.Thread(target=poll) for _ in range(2)]
        for thread in polls:
            thread.start()
        for thread in polls:
            thread.join(30)
    finally:
        event.remove(Session, "before_commit", before_commit)
        hubspot.on_request = None

    assert sorted(applied) == [0, 1]
    with app.app_context():
        changes = db.session.scalars(
            db.select(Activity).where(Activity.kind == ActivityKind.STATUS_CHANGED)
        ).all()
        assert [(a.detail["from"], a.detail["to"]) for a in changes] == [("assigned", "contacted")]
        assert db.session.get(Lead, uuid.UUID(lead["id"])).status == LeadStatus.CONTACTED


def test_changes_are_read_page_by_page_and_the_cursor_moves(hubspot: FakeHubSpot):
    for index in range(250):
        hubspot._write_contact(hubspot.new_id(), {"email": f"p{index}@example.com"})
    connector = HubSpotConnector(TOKEN, hubspot.url, timeout=2)
    first = connector.changes_since("0", 200)
    searches = [c for c in hubspot.calls("POST", "/crm/v3/objects/contacts/search")]
    assert [c.body.get("after") for c in searches] == [None, "100"]
    assert first.more
    for index in range(3):
        hubspot.set_lead_status(list(hubspot.contacts)[index], "CONNECTED")
    second = connector.changes_since(first.cursor, 200)
    assert not second.more
    assert {o.record_id for o in second.outcomes} == set(list(hubspot.contacts)[:3])


def test_the_contacts_of_changed_deals_are_read_in_one_batch(hubspot: FakeHubSpot):
    contacts = [hubspot.new_id() for _ in range(30)]
    for contact_id in contacts:
        hubspot._write_contact(contact_id, {"email": f"{contact_id}@example.com"})
        hubspot.add_deal(contact_id, "closedwon", amount="100")
    shared = hubspot.add_deal(contacts[0], "closedlost", reason="Chose a competitor")
    hubspot.deals[shared]["contacts"] += contacts[1:3]  # one deal, three people
    hubspot.move_deal(hubspot.new_id(), "closedwon")  # no contact: in the answer's errors
    hubspot.association_page_size = 2  # the shared deal's contacts come in two pages
    connector = HubSpotConnector(TOKEN, hubspot.url, timeout=2)

    page = connector.changes_since("0", 500)

    reads = hubspot.calls("POST", "/crm/v4/associations/deals/contacts/batch/read")
    assert [len(call.body["inputs"]) for call in reads] == [32, 1]
    assert reads[1].body["inputs"] == [{"id": shared, "after": "2"}]
    won = {o.record_id for o in page.outcomes if o.status == LeadStatus.WON}
    lost = {o.record_id for o in page.outcomes if o.status == LeadStatus.LOST}
    assert won == set(contacts)
    assert lost == set(contacts[:3])


def test_a_round_that_leaves_changes_unread_makes_the_next_due_at_once(
    app: Flask, hubspot: FakeHubSpot, connected: dict, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(outcomes, "POLL_LIMIT", 100)
    for index in range(150):
        hubspot._write_contact(hubspot.new_id(), {"email": f"b{index}@example.com"})

    def round_leaves_due() -> bool:
        with app.app_context():
            outcomes.poll_due(app, utcnow())
            due = db.session.get_one(CrmConnection, connected["id"]).polled_at is None
            db.session.rollback()
            return due

    assert round_leaves_due()  # 100 of 150 read: the rest at once
    assert not round_leaves_due()  # all read: the interval again
    since = [
        int(call.body["filterGroups"][0]["filters"][0]["value"])
        for call in hubspot.calls("POST", "/crm/v3/objects/contacts/search")
    ]
    assert len(since) == 2 and since[1] > since[0]  # the second round went on from the first


def _signed(secret: str, url: str, body: bytes, timestamp: int) -> dict[str, str]:
    source = f"POST{url}{body.decode()}{timestamp}".encode()
    digest = hmac.new(secret.encode(), source, hashlib.sha256).digest()
    return {
        "X-HubSpot-Signature-v3": base64.b64encode(digest).decode(),
        "X-HubSpot-Request-Timestamp": str(timestamp),
        "Content-Type": "application/json",
    }


def test_a_signed_webhook_brings_the_outcome_at_once_and_a_bad_one_is_refused(
    app: Flask,
    client: FlaskClient,
    hubspot: FakeHubSpot,
    connected: dict,
    delivered: tuple[dict, str],
    dispatcher: Dispatcher,
):
    lead, contact_id = delivered
    dispatcher.run_once()  # the round's poll: nothing changed yet
    hubspot.set_lead_status(contact_id, "CONNECTED")
    event = hubspot.contract["webhook_event"]["request"]["body"]
    event[0]["objectId"] = int(contact_id)
    body = json.dumps(event).encode()
    url = f"http://localhost{connected['webhook_path']}"
    now_ms = int(time.time() * 1000)

    forged = _signed("not-the-secret", url, body, now_ms)
    assert client.post(connected["webhook_path"], data=body, headers=forged).status_code == 401
    stale = _signed("client-secret", url, body, now_ms - 600_000)
    assert client.post(connected["webhook_path"], data=body, headers=stale).status_code == 401
    dispatcher.run_once()
    with app.app_context():
        assert db.session.get(Lead, __import__("uuid").UUID(lead["id"])).status != "contacted"

    good = _signed("client-secret", url, body, now_ms)
    answer = client.post(connected["webhook_path"], data=body, headers=good)
    assert answer.status_code == 204, answer.json
    dispatcher.run_once()
    with app.app_context():
        assert db.session.get(Lead, __import__("uuid").UUID(lead["id"])).status == "contacted"


def test_a_webhook_wakes_the_outcome_poller_without_a_dispatcher_round(
    app: Flask,
    hubspot: FakeHubSpot,
    connected: dict,
    delivered: tuple[dict, str],
    dispatcher: Dispatcher,
    clock: Clock,
    live_server: str,
):
    lead, contact_id = delivered
    dispatcher.run_once()  # the round's poll: the next is not due for 30 s
    # No dispatcher round runs from here on, and the poller's own check would come too late.
    poller = OutcomePoller(app, clock=clock, check_seconds=60)
    poller.start()
    try:
        hubspot.set_lead_status(contact_id, "CONNECTED")
        event = hubspot.contract["webhook_event"]["request"]["body"]
        event[0]["objectId"] = int(contact_id)
        body = json.dumps(event).encode()
        url = f"{live_server}{connected['webhook_path']}"
        headers = _signed("client-secret", url, body, int(time.time() * 1000))
        assert requests.post(url, data=body, headers=headers, timeout=10).status_code == 204
        status = None
        deadline = time.monotonic() + 10  # a bound on the wait, not a speed check
        while time.monotonic() < deadline and status != LeadStatus.CONTACTED:
            time.sleep(0.05)
            with app.app_context():
                status = db.session.get(Lead, uuid.UUID(lead["id"])).status
                db.session.rollback()
    finally:
        poller.stop()
    assert status == LeadStatus.CONTACTED


@pytest.mark.parametrize(
    "signature",
    ["\u00e9" * 44, "not base64 at all", ""],
    ids=["not-ascii", "not-base64", "empty"],
)
def test_a_webhook_with_a_garbled_signature_is_a_401_in_the_error_shape(
    live_server: str, connected: dict, signature: str
):
    body = json.dumps([{"objectId": 1, "subscriptionType": "contact.propertyChange"}])
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": signature.encode().decode("latin-1"),
        "X-HubSpot-Request-Timestamp": str(int(time.time() * 1000)),
    }
    answer = requests.post(
        f"{live_server}{connected['webhook_path']}", data=body, headers=headers, timeout=10
    )
    assert answer.status_code == 401
    assert answer.json()["message"] == "The webhook's signature does not match."


def test_credentials_are_never_returned_stored_in_clear_or_logged(
    app: Flask,
    client: FlaskClient,
    booth: Booth,
    api: ApiHelper,
    hubspot: FakeHubSpot,
    dispatcher: Dispatcher,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.DEBUG)
    secret_token = "pat-na1-very-secret-0123456789"
    hubspot.valid_tokens = {secret_token}
    answer = connect(
        client, booth, "hubspot", hubspot.url, token=secret_token, webhook_secret="hook-secret-xyz"
    )
    shown = client.get(f"/api/v1/events/{booth.event['id']}/crm", headers=booth.marketer.headers)
    for text in (json.dumps(answer), shown.get_data(as_text=True)):
        assert secret_token not in text and "hook-secret-xyz" not in text
    assert shown.json["has_token"] is True and "token" not in shown.json
    with app.app_context():
        stored = db.session.scalar(db.select(CrmConnection))
        assert secret_token not in stored.credentials and "hook-secret" not in stored.webhook_secret
    tested = client.post(
        f"/api/v1/events/{booth.event['id']}/crm/test", headers=booth.marketer.headers
    )
    assert tested.json == {"ok": True, "message": "HubSpot account reached"}
    capture(api, booth)
    hubspot.valid_tokens = {"rotated"}
    dispatcher.run_once()  # a 401: logged as a failure
    tested = client.post(
        f"/api/v1/events/{booth.event['id']}/crm/test", headers=booth.marketer.headers
    )
    assert tested.json["ok"] is False and "credentials were refused" in tested.json["message"]
    assert secret_token not in caplog.text and "hook-secret-xyz" not in caplog.text
    assert "alert" in caplog.text  # the failure was logged, without the token


def test_only_managers_see_or_change_the_connection(
    client: FlaskClient, booth: Booth, hubspot: FakeHubSpot, connected: dict
):
    path = f"/api/v1/events/{booth.event['id']}/crm"
    for person in (booth.rep, booth.staff):
        assert client.get(path, headers=person.headers).status_code == 403
        assert client.put(path, json={"kind": "hubspot"}, headers=person.headers).status_code == 403
    assert client.get(path).status_code == 401
    bad = client.put(
        path,
        json={"kind": "hubspot", "field_mapping": {"email": "e mail"}},
        headers=booth.marketer.headers,
    )
    assert bad.status_code == 422 and bad.json["errors"]
