"""Every endpoint, called by every kind of caller, answers as the README's access table says.

OWASP API1/API5: a caller outside an endpoint's roles gets 401, 403 or 404, never data.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.helpers import ApiHelper, Booth, event_body, lead_body, push_body

ADMIN, MARKETER, REP, STAFF, TABLET = "admin", "marketer", "rep", "staff", "tablet"
USERS = {ADMIN, MARKETER, REP, STAFF}
MANAGERS = {ADMIN, MARKETER}
PUBLIC = "public"

# (method, path) -> who may call it. Keep in step with README "Who may do what".
ACCESS: dict[tuple[str, str], set[str] | str] = {
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): USERS,
    ("GET", "/api/v1/auth/me"): USERS,
    ("GET", "/api/v1/users"): MANAGERS,
    ("POST", "/api/v1/users"): {ADMIN},
    ("GET", "/api/v1/users/{user_id}"): MANAGERS | {REP},  # the rep reads their own record
    ("PATCH", "/api/v1/users/{user_id}"): {ADMIN},
    ("GET", "/api/v1/events"): USERS | {TABLET},
    ("POST", "/api/v1/events"): MANAGERS,
    ("GET", "/api/v1/events/{event_id}"): USERS | {TABLET},
    ("PATCH", "/api/v1/events/{event_id}"): MANAGERS,
    ("DELETE", "/api/v1/events/{event_id}"): MANAGERS,
    ("GET", "/api/v1/events/{event_id}/members"): USERS | {TABLET},
    ("POST", "/api/v1/events/{event_id}/members"): MANAGERS,
    ("DELETE", "/api/v1/events/{event_id}/members/{user_id}"): MANAGERS,
    ("GET", "/api/v1/devices"): MANAGERS,
    ("POST", "/api/v1/devices/pairing-codes"): MANAGERS,
    ("POST", "/api/v1/devices/pair"): PUBLIC,
    ("GET", "/api/v1/devices/me"): {TABLET},
    ("GET", "/api/v1/devices/{device_id}"): MANAGERS,
    ("POST", "/api/v1/devices/{device_id}/revoke"): MANAGERS,
    ("GET", "/api/v1/leads"): MANAGERS | {REP, TABLET},
    ("POST", "/api/v1/leads"): {TABLET},
    ("GET", "/api/v1/leads/{lead_id}"): MANAGERS | {REP, TABLET},
    ("PATCH", "/api/v1/leads/{lead_id}"): MANAGERS | {REP},
    ("GET", "/api/v1/leads/{lead_id}/timeline"): MANAGERS | {REP},
    ("GET", "/api/v1/sync/status"): {TABLET},
    ("POST", "/api/v1/sync/push"): {TABLET},
    ("GET", "/api/v1/sync/pull"): {TABLET},
    ("GET", "/api/v1/events/{event_id}/stats"): MANAGERS,
    ("GET", "/api/v1/stats/compare"): MANAGERS,
    ("GET", "/api/v1/events/{event_id}/leads.csv"): MANAGERS | {REP},  # a rep: their own leads
    ("GET", "/api/v1/events/{event_id}/leads.xlsx"): MANAGERS | {REP},
    ("POST", "/api/v1/privacy/search"): {ADMIN},
    ("POST", "/api/v1/privacy/export"): {ADMIN},
    ("POST", "/api/v1/privacy/erase"): {ADMIN},
    ("GET", "/api/v1/privacy/audit"): {ADMIN},
    ("GET", "/api/v1/privacy/recaptures"): {ADMIN},
    ("GET", "/api/v1/privacy/events/{event_id}/retention"): MANAGERS,
    ("PUT", "/api/v1/privacy/events/{event_id}/retention"): MANAGERS,
    ("GET", "/api/v1/privacy/events/{event_id}/consent-texts"): USERS | {TABLET},
    ("POST", "/api/v1/privacy/events/{event_id}/consent-texts"): MANAGERS,
    ("GET", "/api/v1/privacy/leads/{lead_id}/consent"): MANAGERS | {REP},
    ("GET", "/api/v1/alerts"): {ADMIN},
    ("POST", "/api/v1/alerts/{job_id}/retry"): {ADMIN},
    ("GET", "/api/v1/events/{event_id}/crm"): MANAGERS,
    ("PUT", "/api/v1/events/{event_id}/crm"): MANAGERS,
    ("DELETE", "/api/v1/events/{event_id}/crm"): MANAGERS,
    ("POST", "/api/v1/events/{event_id}/crm/test"): MANAGERS,
    ("POST", "/api/v1/crm/webhooks/{connection_id}"): PUBLIC,  # the CRM's signature is the check
    ("POST", "/api/v1/sync/attachments"): {TABLET},
    ("GET", "/api/v1/sync/attachments/{lead_id}/{sha256}"): {TABLET},
    ("PUT", "/api/v1/sync/attachments/{lead_id}/{sha256}"): {TABLET},
}
# Callers that must be refused first, so that a revoke or logout cannot hide a leak.
CALLERS = ("anonymous", "revoked tablet", TABLET, STAFF, REP, MARKETER, ADMIN)


def _all_operations(client: FlaskClient) -> set[tuple[str, str]]:
    spec = client.get("/api/openapi.json").json
    return {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method != "parameters"
    }


def test_the_table_covers_every_documented_endpoint(client: FlaskClient):
    assert _all_operations(client) == set(ACCESS)


def _body(method: str, path: str, booth: Booth) -> dict[str, Any] | None:
    return {
        ("POST", "/api/v1/auth/login"): {"email": booth.rep.email, "password": "wrong"},
        ("POST", "/api/v1/users"): {"email": "new@example.com", "name": "N", "role": "rep"},
        ("PATCH", "/api/v1/users/{user_id}"): {"name": "Renamed"},
        ("POST", "/api/v1/events"): event_body(),
        ("PATCH", "/api/v1/events/{event_id}"): {"booth": "Z9"},
        ("POST", "/api/v1/events/{event_id}/members"): {"user_id": booth.rep.id},
        ("POST", "/api/v1/devices/pairing-codes"): {"event_id": booth.event["id"]},
        ("POST", "/api/v1/devices/pair"): {"code": "AAAAA-AAAAA", "name": "T"},
        ("POST", "/api/v1/leads"): lead_body(booth.staff.id),
        ("PATCH", "/api/v1/leads/{lead_id}"): {"status": "acknowledged"},
        ("POST", "/api/v1/sync/push"): push_body(booth.staff.id),
        ("POST", "/api/v1/privacy/search"): {"email": "nobody@example.com"},
        ("POST", "/api/v1/privacy/export"): {"email": "nobody@example.com"},
        ("POST", "/api/v1/privacy/erase"): {"email": "nobody@example.com", "confirm": True},
        ("PUT", "/api/v1/privacy/events/{event_id}/retention"): {"retention_days": 30},
        ("POST", "/api/v1/privacy/events/{event_id}/consent-texts"): {
            "language": "de",
            "text": "Sie dürfen mich kontaktieren.",
        },
    }.get((method, path))


@pytest.mark.parametrize(("method", "path"), sorted(ACCESS))
def test_access(method: str, path: str, api: ApiHelper, booth: Booth, client: FlaskClient):
    lead = api.capture(booth.tablet, booth.staff)
    assigned = client.patch(
        f"/api/v1/leads/{lead['id']}",
        json={"owner_id": booth.rep.id},
        headers=booth.marketer.headers,
    )
    assert assigned.status_code == 200
    revoked = api.tablet(booth.marketer, booth.event["id"], name="Lost")
    client.post(f"/api/v1/devices/{revoked.id}/revoke", headers=booth.marketer.headers)
    values = {
        "event_id": booth.event["id"],
        "user_id": booth.rep.id,
        "device_id": booth.tablet.id,
        "lead_id": lead["id"],
        "job_id": 1,  # an alert job id: pending (409) or unknown (404) to admins, never 5xx
        "connection_id": 1,  # no CRM connection yet: the webhook answers 4xx, never 5xx
        "sha256": "0" * 64,
    }
    url = re.sub(r"\{(\w+)\}", lambda match: str(values[match.group(1)]), path)
    headers = {
        "anonymous": {},
        "revoked tablet": revoked.headers,
        TABLET: booth.tablet.headers,
        STAFF: booth.staff.headers,
        REP: booth.rep.headers,
        MARKETER: booth.marketer.headers,
        ADMIN: booth.admin.headers,
    }
    allowed = ACCESS[(method, path)]
    for caller in CALLERS:
        response = client.open(
            url, method=method, headers=headers[caller], json=_body(method, path, booth)
        )
        status = response.status_code
        if allowed == PUBLIC:
            assert status not in (403, 500), (caller, status)
        elif caller in ("anonymous", "revoked tablet"):
            assert status == 401, (caller, status)
        elif caller in allowed:
            assert status not in (401, 403) and status < 500, (caller, status, response.json)
        else:
            assert status in (403, 404), (caller, status)
            assert "id" not in (response.get_json() or {}), caller
