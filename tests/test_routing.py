"""Routing: named accounts, territory, product, round-robin under capacity, and the fallback."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from server.users.models import Role
from tests.helpers import ApiHelper, Booth, Person


def _route(client: FlaskClient, booth: Booth, routing: dict[str, Any]) -> None:
    response = client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"routing": routing},
        headers=booth.marketer.headers,
    )
    assert response.status_code == 200, response.json


def _rule_of(client: FlaskClient, booth: Booth, lead: dict[str, Any]) -> str:
    timeline = client.get(
        f"/api/v1/leads/{lead['id']}/timeline", headers=booth.marketer.headers
    ).json
    return next(entry["detail"]["rule"] for entry in timeline if entry["kind"] == "routed")


def _reps(api: ApiHelper, booth: Booth, count: int, **fields: Any) -> list[Person]:
    reps = [api.person(Role.REP, **fields) for _ in range(count)]
    for rep in reps:
        api.add_member(booth.marketer, booth.event["id"], rep.id)
    return reps


def test_rules_apply_in_order(api: ApiHelper, booth: Booth, client: FlaskClient):
    account, german, scanner = _reps(api, booth, 3)
    _route(
        client,
        booth,
        {
            "rules": [
                {"type": "named_account", "domains": ["bigcorp.example"], "rep_id": account.id},
                {"type": "territory", "countries": ["DE"], "rep_ids": [german.id]},
                {"type": "product", "products": ["scanner"], "rep_ids": [scanner.id]},
            ]
        },
    )
    named = api.capture(booth.tablet, booth.staff, email="cio@BigCorp.example", country="DE")
    local = api.capture(booth.tablet, booth.staff, email="a@x.example", country="DE")
    product = api.capture(booth.tablet, booth.staff, email="b@x.example", country="FR")
    other = api.capture(
        booth.tablet, booth.staff, email="c@x.example", country="FR", products=["crm"]
    )
    assert named["owner_id"] == account.id and _rule_of(client, booth, named) == "named_account"
    assert local["owner_id"] == german.id and _rule_of(client, booth, local) == "territory"
    assert product["owner_id"] == scanner.id and _rule_of(client, booth, product) == "product"
    assert _rule_of(client, booth, other) == "round_robin"


def test_round_robin_spreads_leads_and_respects_capacity(
    api: ApiHelper, booth: Booth, client: FlaskClient
):
    client.delete(
        f"/api/v1/events/{booth.event['id']}/members/{booth.rep.id}", headers=booth.marketer.headers
    )
    first, second = _reps(api, booth, 2, daily_capacity=2)
    fallback = api.person(Role.MARKETER)
    _route(client, booth, {"rules": [], "fallback_owner_id": fallback.id})
    owners = [
        api.capture(booth.tablet, booth.staff, email=f"v{i}@x.example")["owner_id"]
        for i in range(5)
    ]
    assert sorted(owners[:4]) == sorted([first.id, first.id, second.id, second.id])
    assert owners[4] == fallback.id  # both reps are full for today


def test_a_full_territory_rep_passes_the_lead_on(api: ApiHelper, booth: Booth, client: FlaskClient):
    (busy,) = _reps(api, booth, 1, daily_capacity=1)
    _route(
        client, booth, {"rules": [{"type": "territory", "countries": ["DE"], "rep_ids": [busy.id]}]}
    )
    first = api.capture(booth.tablet, booth.staff, email="1@x.example")
    second = api.capture(booth.tablet, booth.staff, email="2@x.example")
    assert first["owner_id"] == busy.id
    assert second["owner_id"] == booth.rep.id and _rule_of(client, booth, second) == "round_robin"


def test_no_rep_and_no_fallback_leaves_the_lead_unrouted(
    booth: Booth, api: ApiHelper, client: FlaskClient
):
    client.delete(
        f"/api/v1/events/{booth.event['id']}/members/{booth.rep.id}", headers=booth.marketer.headers
    )
    lead = api.capture(booth.tablet, booth.staff)
    assert lead["owner_id"] is None and lead["status"] == "new"
    assert _rule_of(client, booth, lead) == "unrouted"


def test_routing_names_only_active_reps(api: ApiHelper, booth: Booth, client: FlaskClient):
    url = f"/api/v1/events/{booth.event['id']}"
    for routing in (
        {"rules": [{"type": "territory", "countries": ["DE"], "rep_ids": [booth.staff.id]}]},
        {"rules": [{"type": "product", "products": ["scanner"], "rep_ids": [99999]}]},
        {"rules": [{"type": "named_account", "rep_id": booth.rep.id}]},
        {"rules": [], "fallback_owner_id": booth.staff.id},
    ):
        response = client.patch(url, json={"routing": routing}, headers=booth.marketer.headers)
        assert response.status_code == 422, routing
