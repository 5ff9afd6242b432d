"""What each connector sends has the shape its CRM's reference documents (tests/contracts/).

Each connector runs its calls against its loopback CRM; every request body's key paths must
be among those of the documented request in the contract fixture, with the same method and
path, and the documented authentication.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from server.crm.base import Connector, Note, Person
from server.crm.hubspot import HubSpotConnector
from server.crm.models import CrmKind
from server.crm.pipedrive import PipedriveConnector
from server.crm.registry import build
from server.crm.salesforce import SalesforceConnector
from tests.crm_peers import FakeCrm, FakeHubSpot, FakePipedrive, FakeSalesforce, FormBody
from tests.peers import LOOPBACK_NETWORKS

TOKEN = "contract-token"
NOTE = Note("Met at Expo", "Event: Expo", datetime(2026, 11, 23, 10, 0, tzinfo=UTC))


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Return every key path of a JSON value (list items share the path 'name[]')."""
    if isinstance(value, dict):
        found = set()
        for key, inner in value.items():
            path = f"{prefix}.{key}" if prefix else key
            found |= {path} | key_paths(inner, path)
        return found
    if isinstance(value, list):
        return set().union(*(key_paths(item, f"{prefix}[]") for item in value)) if value else set()
    return set()


def _documented(fake: FakeCrm, names: list[str]) -> None:
    for name in names:
        documented = fake.contract[name]["request"]
        template = documented["path"].split("{")[0]
        sent = [
            c
            for c in fake.calls(documented["method"], template)
            if "{" in documented["path"] or c.path == documented["path"]
        ]
        assert sent, f"{name}: no {documented['method']} {documented['path']} was sent"
        # Calls to one endpoint may follow any exchange documented for it (search, changes).
        allowed = set().union(
            *(
                key_paths(entry["request"].get("body"))
                for entry in fake.contract.values()
                if isinstance(entry, dict)
                and entry.get("request", {}).get("method") == documented["method"]
                and entry["request"].get("path") == documented["path"]
            )
        )
        for call in sent:
            if isinstance(call.body, dict) and "body" in documented:
                extra = key_paths(call.body) - allowed
                assert not extra, f"{name}: undocumented fields {sorted(extra)}"


def _person(address: str | None, **fields: Any) -> Person:
    return Person(
        email=address,
        phone="+4930123456",
        fields=fields,
        owner_email="rep@example.com",
        campaign="EXPO-26",
    )


def test_hubspot_requests_match_the_contract() -> None:
    with FakeHubSpot(TOKEN) as fake:
        fake.add_owner("rep@example.com")
        connector = HubSpotConnector(TOKEN, fake.url)
        contact = connector.upsert_person(
            _person(
                "ann@example.com",
                email="ann@example.com",
                firstname="Ann",
                lastname="Example",
                phone="+4930123456",
                company="X",
                jobtitle="CTO",
                country="DE",
                leadbridge_source="Trade Show",
                leadbridge_campaign="EXPO-26",
            ),
            None,
        )
        connector.upsert_person(_person("ann@example.com", firstname="Bryan"), None)
        fake.conflict_names_id = False  # then the contact is read by email
        connector.upsert_person(_person("ann@example.com", firstname="Ann"), None)
        connector.upsert_person(_person(None, phone="+4930123456"), None)
        connector.attach_context(contact, NOTE)
        fake.add_deal(contact, "closedwon", amount="10")
        connector.changes_since("0", 10)
        _documented(
            fake,
            [
                "contact_read_by_email",
                "contact_search",
                "contact_create",
                "contact_update",
                "note_create",
                "owners_by_email",
                "contact_changes",
                "deal_changes",
                "deal_contacts",
            ],
        )
        assert {c.headers["Authorization"] for c in fake.calls()} == {f"Bearer {TOKEN}"}


def test_salesforce_requests_match_the_contract() -> None:
    with FakeSalesforce(TOKEN) as fake:
        fake.write("User", fake.sf_id("005"), {"Email": "rep@example.com", "IsActive": True})
        fake.write("Campaign", fake.sf_id("701"), {"Name": "EXPO-26"})
        connector = SalesforceConnector(TOKEN, fake.url)
        lead = connector.upsert_person(
            _person(
                "ann@example.com",
                FirstName="Ann",
                LastName="Example",
                Email="ann@example.com",
                Company="Example GmbH",
                LeadSource="Trade Show",
            ),
            None,
        )
        connector.upsert_person(_person("ann@example.com", Company="Example GmbH"), lead)
        connector.attach_context(lead, NOTE)
        connector.check()
        _documented(fake, ["lead_query", "lead_create", "lead_update", "task_create", "limits"])
        assert {c.headers["Authorization"] for c in fake.calls()} == {f"Bearer {TOKEN}"}


def test_pipedrive_requests_match_the_contract() -> None:
    with FakePipedrive(TOKEN) as fake:
        fake.add_user("rep@example.com")
        connector = PipedriveConnector(TOKEN, fake.url)
        person = connector.upsert_person(
            _person(
                "ann@example.com",
                first_name="Ann",
                last_name="Example",
                email="ann@example.com",
                phone="+4930123456",
            ),
            None,
        )
        connector.upsert_person(_person("ann@example.com", first_name="Ann"), None)
        connector.attach_context(person, NOTE)
        connector.changes_since("0", 10)
        connector.check()
        _documented(
            fake,
            [
                "person_search",
                "person_create",
                "person_update",
                "person_deals",
                "deal_create",
                "note_create",
                "users_find",
                "users_me",
                "recents",
            ],
        )
        assert {tuple(c.query["api_token"]) for c in fake.calls()} == {(TOKEN,)}


def _refreshing(kind: CrmKind, fake: FakeCrm) -> Connector:
    """Return a connector of kind on fake, with refresh-token credentials fake knows."""
    fake.add_refresh_token("contract-refresh", "contract-client", "contract-secret")
    secrets = {
        "refresh_token": "contract-refresh",
        "client_id": "contract-client",
        "client_secret": "contract-secret",
    }
    return build(kind, secrets, fake.url, 5.0, allowed_networks=LOOPBACK_NETWORKS)


def _token_request_documented(fake: FakeCrm) -> None:
    documented = fake.contract["token_refresh"]["request"]
    _documented(fake, ["token_refresh"])
    for call in fake.calls("POST", documented["path"]):
        # Form-encoded, every documented field and no other, no Bearer header.
        media_type = documented["headers"]["Content-Type"].split(";")[0]
        assert call.headers["Content-Type"].split(";")[0] == media_type
        assert isinstance(call.body, FormBody) and set(call.body) == set(documented["body"])
        assert "Authorization" not in call.headers
    issued = {f"Bearer {token}" for token in fake.issued}
    others = [c for c in fake.calls() if c.path != documented["path"]]
    assert others and {c.headers["Authorization"] for c in others} <= issued


def test_salesforce_token_refresh_matches_the_contract() -> None:
    with FakeSalesforce(TOKEN) as fake:
        connector = _refreshing(CrmKind.SALESFORCE, fake)
        connector.check()
        fake.expire_access_tokens()
        connector.check()  # 401 INVALID_SESSION_ID, a refresh, the call again
        assert len(fake.calls("POST", "/services/oauth2/token")) == 2
        _token_request_documented(fake)
        _documented(fake, ["limits"])


def test_hubspot_token_refresh_matches_the_contract() -> None:
    with FakeHubSpot(TOKEN) as fake:
        connector = _refreshing(CrmKind.HUBSPOT, fake)
        connector.check()
        fake.expire_access_tokens()
        connector.check()
        assert len(fake.calls("POST", "/oauth/v1/token")) == 2
        _token_request_documented(fake)
