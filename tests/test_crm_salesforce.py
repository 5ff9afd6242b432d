"""Salesforce end to end: Leads, Tasks, campaign members on a loopback org; outcomes polled.

The loopback server (tests/crm_peers.py) answers as the Salesforce REST API reference
documents, with the bodies of tests/contracts/salesforce.json; the connector is
simple-salesforce.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.alerts.dispatcher import Dispatcher
from server.alerts.models import JobStatus
from server.crm.models import CrmConnection, CrmRecord
from server.crm.salesforce import SalesforceConnector
from server.extensions import db
from server.leads.models import Lead, LeadStatus
from tests.alerting import Clock
from tests.crm_peers import FakeSalesforce
from tests.crm_setup import (
    TOKEN,
    connect,
    crm_jobs,
    deliver_until_settled,
    smtp,  # noqa: F401 (the dispatcher's fixture)
)
from tests.helpers import ApiHelper, Booth


@pytest.fixture
def salesforce(booth: Booth) -> Iterator[FakeSalesforce]:
    """Run a loopback Salesforce org with the booth's rep as a User and the event's campaign."""
    with FakeSalesforce(TOKEN, hang_seconds=1.5) as fake:
        fake.rep_user = fake.sf_id("005")
        fake.write("User", fake.rep_user, {"Email": booth.rep.email, "IsActive": True})
        fake.campaign = fake.sf_id("701")
        fake.write("Campaign", fake.campaign, {"Name": "TEST-26"})
        yield fake


@pytest.fixture
def connected(client: FlaskClient, booth: Booth, salesforce: FakeSalesforce) -> dict:
    """Connect the booth's event to the loopback Salesforce."""
    return connect(client, booth, "salesforce", salesforce.url)


def test_a_lead_becomes_a_salesforce_lead_with_task_campaign_and_owner(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    salesforce: FakeSalesforce,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    lead = api.capture(booth.tablet, booth.staff)
    deliver_until_settled(dispatcher, clock)
    [lead_id] = salesforce.leads_by_email(lead["email"])
    record = salesforce.sobjects["Lead"][lead_id]
    assert record["LastName"] == "Example" and record["Company"] == "Example GmbH"
    assert record["LeadSource"] == "Trade Show"
    assert record["OwnerId"] == salesforce.rep_user
    [task] = salesforce.sobjects["Task"].values()
    assert task["WhoId"] == lead_id and task["Status"] == "Completed"
    assert "Budget?: Yes" in task["Description"] and "Test Expo" in task["Description"]
    [member] = salesforce.sobjects["CampaignMember"].values()
    assert (member["CampaignId"], member["LeadId"]) == (salesforce.campaign, lead_id)
    with app.app_context():
        assert crm_jobs()[0].status == JobStatus.DELIVERED


def test_an_existing_lead_is_found_by_soql_and_updated(
    api: ApiHelper,
    booth: Booth,
    salesforce: FakeSalesforce,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    known = salesforce.sf_id("00Q")
    salesforce.write("Lead", known, {"Email": "known@example.com", "LastName": "K", "Company": "?"})
    api.capture(booth.tablet, booth.staff, email="known@example.com")
    deliver_until_settled(dispatcher, clock)
    assert salesforce.leads_by_email("known@example.com") == [known]
    assert salesforce.sobjects["Lead"][known]["Company"] == "Example GmbH"
    queries = [c.query["q"][0] for c in salesforce.calls("GET", "/services/data/v59.0/query/")]
    assert "SELECT Id FROM Lead WHERE Email = 'known@example.com' AND IsConverted = false" in (
        " ".join(queries)
    )


def test_a_timeout_after_the_create_does_not_make_a_second_lead(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    salesforce: FakeSalesforce,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    dispatcher.run_once()  # the first round's poll
    salesforce.fail_only = "POST /services/data/v59.0/sobjects/Lead/"
    salesforce.fail_next = ["timeout"]
    lead = api.capture(booth.tablet, booth.staff)
    dispatcher.run_once()
    with app.app_context():
        assert crm_jobs()[0].status == JobStatus.PENDING
    assert len(salesforce.leads_by_email(lead["email"])) == 1
    time.sleep(1.2)
    deliver_until_settled(dispatcher, clock)
    assert len(salesforce.leads_by_email(lead["email"])) == 1
    assert len(salesforce.sobjects["CampaignMember"]) == 1, (
        "joined once; a repeat is DUPLICATE_VALUE"
    )


def test_a_spent_api_allowance_is_retried_and_an_expired_session_dead_letters(
    app: Flask,
    client: FlaskClient,
    api: ApiHelper,
    booth: Booth,
    salesforce: FakeSalesforce,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    dispatcher.run_once()
    salesforce.fail_only = "GET /services/data/v59.0/query/"
    salesforce.fail_next = ["429", "500"]  # 403 REQUEST_LIMIT_EXCEEDED, then UNKNOWN_EXCEPTION
    first = api.capture(booth.tablet, booth.staff)
    deliver_until_settled(dispatcher, clock)
    assert len(salesforce.leads_by_email(first["email"])) == 1
    salesforce.valid_tokens = {"another"}
    api.capture(booth.tablet, booth.staff)
    dispatcher.run_once()
    dead = client.get("/api/v1/alerts?status=dead&kind=crm_sync", headers=booth.admin.headers)
    [item] = dead.json["items"]
    assert item["attempts"] == 1 and "credentials were refused" in item["last_error"]


def test_outcomes_are_polled_page_by_page_conversion_and_opportunity_included(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    salesforce: FakeSalesforce,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    leads = [api.capture(booth.tablet, booth.staff) for _ in range(5)]
    deliver_until_settled(dispatcher, clock)
    sf = {lead["id"]: salesforce.leads_by_email(lead["email"])[0] for lead in leads}
    salesforce.page_size = 2  # the poll must follow nextRecordsUrl
    salesforce.write("Lead", sf[leads[0]["id"]], {"Status": "Working - Contacted"})
    salesforce.write("Lead", sf[leads[1]["id"]], {"Status": "Closed - Not Converted"})
    salesforce.convert(sf[leads[2]["id"]], "Closed Won", won=True, amount=2500.0)
    salesforce.convert(sf[leads[3]["id"]], "Closed Lost", won=False)
    with app.app_context():
        db.session.execute(db.update(CrmConnection).values(polled_at=None))
        db.session.commit()
    dispatcher.run_once()
    with app.app_context():
        status = {str(lead.id): lead for lead in db.session.scalars(db.select(Lead))}
        assert status[leads[0]["id"]].status == LeadStatus.CONTACTED
        assert status[leads[1]["id"]].status == LeadStatus.DISQUALIFIED
        assert status[leads[1]["id"]].status_reason == "Other"
        assert status[leads[2]["id"]].status == LeadStatus.WON
        assert str(status[leads[2]["id"]].deal_value) == "2500.00"
        assert status[leads[3]["id"]].status == LeadStatus.LOST
        assert status[leads[4]["id"]].status == LeadStatus.ASSIGNED
    pages = salesforce.calls("GET", "/services/data/v59.0/query/01gD")
    assert pages, "the later pages were read"


def test_salesforce_has_no_webhook_and_needs_its_org_address(
    client: FlaskClient, booth: Booth, salesforce: FakeSalesforce, connected: dict
):
    assert client.post(connected["webhook_path"], data=b"[]").status_code == 404
    other = client.put(
        f"/api/v1/events/{booth.event['id']}/crm",
        json={"kind": "salesforce", "base_url": None, "token": "x"},
        headers=booth.marketer.headers,
    )
    assert other.status_code == 422


def test_the_connection_test_reads_the_org_limits(salesforce: FakeSalesforce):
    assert SalesforceConnector(TOKEN, salesforce.url).check() == "Salesforce org reached"
    assert salesforce.calls("GET", "/services/data/v59.0/limits/")
    assert salesforce.calls()[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_records_are_stored_per_lead(
    app: Flask,
    api: ApiHelper,
    booth: Booth,
    salesforce: FakeSalesforce,
    connected: dict,
    dispatcher: Dispatcher,
    clock: Clock,
):
    lead = api.capture(booth.tablet, booth.staff)
    deliver_until_settled(dispatcher, clock)
    with app.app_context():
        record = db.session.get(CrmRecord, uuid.UUID(lead["id"]))
        assert record.record_id == salesforce.leads_by_email(lead["email"])[0]
