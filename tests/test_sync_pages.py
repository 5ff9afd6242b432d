"""Pull pages, each lead's JSON written by the database, say exactly what LeadSchema dumps."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.extensions import db
from server.leads.models import Lead, LeadSource, LeadStatus, Rating
from server.privacy.models import ConsentRecord
from server.sync.schemas import ChangeSchema
from tests.helpers import Booth, create_mutation


def _reference(app: Flask, device_id: int, lead_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Dump the tablet's leads (or one) through LeadSchema, as pulls did before."""
    with app.app_context():
        query = (
            sa.select(Lead, ConsentRecord.language, ConsentRecord.purposes)
            .outerjoin(ConsentRecord, ConsentRecord.lead_id == Lead.id)
            .where(Lead.device_id == device_id)
        )
        if lead_id is not None:
            query = query.where(Lead.id == lead_id)
        rows = db.session.execute(query).all()
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


# Text as PostgreSQL's text and varchar hold it (no NUL), in odd Unicode; column lengths kept.
_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)
_OPTIONAL_TEXT = st.none() | _TEXT | st.sampled_from(['"q" \\ \n\t\u2028', "Zoë 😀", "null", ""])
_TIMES = st.datetimes(datetime(1970, 1, 2), datetime(2200, 1, 1)).map(
    lambda at: at.replace(tzinfo=UTC)
)
_ROUND_TIMES = _TIMES.map(lambda at: at.replace(microsecond=0))
_OPTIONAL_TIME = st.none() | _TIMES | _ROUND_TIMES
_INT = st.none() | st.integers(-(2**31), 2**31 - 1)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)


def _enum(kind: type, optional: bool = False) -> st.SearchStrategy[Any]:
    values = st.sampled_from(list(kind))
    return st.none() | values if optional else values


_LEAD_COLUMNS = st.fixed_dictionaries(
    {
        "first_name": _OPTIONAL_TEXT,
        "last_name": _OPTIONAL_TEXT,
        "email": _OPTIONAL_TEXT,
        "phone": _OPTIONAL_TEXT,
        "company": _OPTIONAL_TEXT,
        "job_title": _OPTIONAL_TEXT,
        "country": st.none() | st.sampled_from(["DE", "GB"]),
        "region": _OPTIONAL_TEXT,
        "source": _enum(LeadSource),
        "badge_payload": _OPTIONAL_TEXT,
        "answers": st.dictionaries(_TEXT, _JSON, max_size=4),
        "products": st.lists(_TEXT, max_size=3),
        "rating": _enum(Rating, optional=True),
        "notes": _OPTIONAL_TEXT,
        "follow_up": st.booleans(),
        "captured_at": _TIMES | _ROUND_TIMES,
        "received_at": _TIMES,
        "updated_at": _ROUND_TIMES,
        "consent_given": st.booleans(),
        "consent_version": _INT,
        "consent_at": _OPTIONAL_TIME,
        "score_points": _INT,
        "score_band": _enum(Rating, optional=True),
        "score_reasons": st.none()
        | st.lists(st.fixed_dictionaries({"reason": _TEXT, "points": _INT}), max_size=3),
        "rubric_version": _INT,
        "status": _enum(LeadStatus),
        "status_reason": _OPTIONAL_TEXT,
        "deal_value": st.none()
        | st.decimals(0, 10**11, places=2)
        | st.sampled_from([Decimal("0"), Decimal("0.1"), Decimal("1500.5"), Decimal(10**11)]),
        "assigned_at": _OPTIONAL_TIME,
        "alerted_at": _OPTIONAL_TIME,
        "acknowledged_at": _OPTIONAL_TIME,
        "first_contact_at": _OPTIONAL_TIME,
    }
)
_CONSENT_RECORD = st.none() | st.fixed_dictionaries(
    {
        "language": st.none() | st.sampled_from(["en", "de"]),
        "purposes": st.none() | st.lists(_TEXT, max_size=3),
        "text_version": _INT,
    }
)
# Above every version the server hands out, so a pull from just below finds only this lead.
_VERSIONS = itertools.count(2**50)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    columns=_LEAD_COLUMNS,
    record=_CONSENT_RECORD,
    owned=st.booleans(),
    consented_by=st.booleans(),
    merged=st.booleans(),
)
def test_any_lead_row_pulls_as_the_lead_schema_dumps_it(
    app: Flask,
    booth: Booth,
    client: FlaskClient,
    columns: dict[str, Any],
    record: dict[str, Any] | None,
    owned: bool,
    consented_by: bool,
    merged: bool,
):
    version = next(_VERSIONS)
    row = {
        **columns,
        # Drawn here: hypothesis draws the same ids again in every run (one database).
        "id": uuid.uuid4(),
        "event_id": booth.event["id"],
        "device_id": booth.tablet.id,
        "captured_by_id": booth.staff.id,
        "consent_by_id": booth.staff.id if consented_by else None,
        "owner_id": booth.rep.id if owned else None,
        "server_version": version,
    }
    with app.app_context():
        if merged:
            row["merged_into_id"] = db.session.scalar(
                sa.select(Lead.id).where(Lead.id != row["id"]).limit(1)
            )
        db.session.execute(sa.insert(Lead), [row])
        if record is not None:
            db.session.execute(sa.insert(ConsentRecord), [{"lead_id": row["id"], **record}])
        db.session.commit()
    page = client.get(
        f"/api/v1/sync/pull?cursor={version - 1}&limit=10", headers=booth.tablet.headers
    )
    assert page.status_code == 200, page.json
    [change] = page.json["changes"]
    assert change == _reference(app, booth.tablet.id, row["id"])[str(row["id"])]
