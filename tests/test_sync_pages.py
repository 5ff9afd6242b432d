"""Pull pages encoded from Core rows say exactly what the marshmallow schemas would dump."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.leads.models import Lead
from server.privacy.models import ConsentRecord
from server.sync.schemas import ChangeSchema
from tests.helpers import Booth, create_mutation


def _reference(app: Flask, device_id: int) -> dict[str, Any]:
    """Dump every lead of the tablet through LeadSchema, as pulls did before."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Lead, ConsentRecord.language, ConsentRecord.purposes)
            .outerjoin(ConsentRecord, ConsentRecord.lead_id == Lead.id)
            .where(Lead.device_id == device_id)
        ).all()
        schema = ChangeSchema()
        dumped = {
            str(lead.id): schema.dump(
                {
                    "kind": "lead",
                    "version": lead.server_version,
                    "row": lead,
                    "consent": None
                    if purposes is None
                    else {"language": language, "purposes": purposes},
                }
            )
            for lead, language, purposes in rows
        }
    # Through JSON, as a tablet would read it (UUIDs and enums become strings).
    return json.loads(json.dumps(dumped, default=str))


def test_pulled_leads_match_the_lead_schema_dump(app: Flask, booth: Booth, client: FlaskClient):
    staff = booth.staff.id
    rubric = {"rules": [{"question": "budget", "equals": True, "points": 30, "reason": "Budget"}]}
    scored = client.patch(
        f"/api/v1/events/{booth.event['id']}",
        json={"rubric": {"hot": 50, "warm": 20, **rubric}},
        headers=booth.marketer.headers,
    )
    assert scored.status_code == 200, scored.json
    consent_version = booth.event["consent_version"]
    mutations = [
        create_mutation(1, staff),
        # Only what identifies the person: every optional column NULL or empty.
        create_mutation(
            2,
            staff,
            first_name=None,
            last_name=None,
            phone=None,
            company=None,
            job_title=None,
            country=None,
            answers={"budget": False},
            products=[],
            rating=None,
            notes=None,
            follow_up=False,
            consent={"given": False},
        ),
        create_mutation(
            3,
            staff,
            email="greta@example.com",
            consent={
                "given": True,
                "version": consent_version,
                "language": "en",
                "purposes": ["sales_follow_up", "marketing_email"],
                "at": "2026-11-23T10:59:00+01:00",
            },
        ),
    ]
    # The same person again, in a later push: merged into the lead of mutation 3.
    again = [create_mutation(4, staff, email="greta@Example.COM", notes='Ünïcode \u2603 "quoted"')]
    for batch in (mutations, again):
        pushed = client.post(
            "/api/v1/sync/push", json={"mutations": batch}, headers=booth.tablet.headers
        )
        assert pushed.status_code == 200, pushed.json
        assert {r["outcome"] for r in pushed.json["results"]} == {"applied"}
    won = mutations[0]["lead_id"]
    changed = client.patch(
        f"/api/v1/leads/{won}",
        json={"status": "won", "value": "1500.5", "owner_id": booth.rep.id},
        headers=booth.marketer.headers,
    )
    assert changed.status_code == 200, changed.json

    page = client.get("/api/v1/sync/pull?cursor=0&limit=1000", headers=booth.tablet.headers)
    assert page.status_code == 200 and page.mimetype == "application/json"
    pulled = {c["data"]["id"]: c for c in page.json["changes"] if c["kind"] == "lead"}
    reference = _reference(app, booth.tablet.id)
    assert len(pulled) == 4 and pulled.keys() == reference.keys()
    for lead_id, change in pulled.items():
        assert change == reference[lead_id], lead_id
    # The cases above reached the columns they were meant to.
    assert pulled[won]["data"]["deal_value"] == "1500.50"
    assert pulled[won]["data"]["owner"]["id"] == booth.rep.id
    agreed = [c["data"]["consent"] for c in pulled.values() if "purposes" in c["data"]["consent"]]
    assert agreed and agreed[0]["language"] == "en"
    assert any(c["data"]["merged_into_id"] for c in pulled.values())
    assert any(c["data"]["score"]["reasons"] for c in pulled.values())


def test_a_page_keeps_its_order_and_cursor(booth: Booth, client: FlaskClient):
    mutations = [create_mutation(n, booth.staff.id) for n in range(1, 6)]
    client.post("/api/v1/sync/push", json={"mutations": mutations}, headers=booth.tablet.headers)
    first = client.get("/api/v1/sync/pull?cursor=0&limit=2", headers=booth.tablet.headers).json
    versions = [change["version"] for change in first["changes"]]
    assert len(versions) == 2 and versions == sorted(versions)
    assert first["has_more"] is True and first["next_cursor"] == versions[-1]
    assert first["server_time"].endswith("+00:00")
