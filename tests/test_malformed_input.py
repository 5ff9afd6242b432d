"""A battery of malformed requests against every endpoint: always a 4xx, never a 5xx,
always the one JSON error shape, and nothing stored changes when a request is refused.

The endpoints are read from the OpenAPI document, so a new endpoint is covered
without editing this file.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import flask_smorest
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server import json_body
from server.extensions import db
from tests.helpers import ApiHelper, Booth, create_mutation, event_body, lead_body, push_body

JUNK_VALUES: list[Any] = [
    None,
    True,
    -1,
    0,
    2**70,
    1.5,
    "",
    " ",
    "\x00",
    "x" * 5000,
    "2026-13-45",
    "../../etc/passwd",
    [],
    [None, {"a": 1}],
    {},
    {"$ne": 1},
    {"a": {"b": {"c": ["d"]}}},
]
JUNK_QUERY = ["", "x" * 500, "\x00", "-1", "0", "1e400", "99999999999999999999999", "2026-13-45"]
JUNK_PATH = ["0", "-1", "99999999999999999999", "abc", "%00", "1.5", str(uuid.uuid4()), "1;drop"]
RAW_BODIES = [b"{", b"[]", b'"text"', b"null", b"12", b"\xff\xfe", b"{" * 5000 + b"}" * 5000]
# Bodies the JSON decoder reads and then refuses (or decodes to strings nothing can store).
DECODER_REFUSALS = {
    "integer over int()'s digit limit": b'{"email": ' + b"7" * 5000 + b"}",
    "number over the limit in a list": b'{"mutations": [' + b"1" * 4301 + b"]}",
    "arrays nested past the recursion limit": b"[" * 100_000 + b"]" * 100_000,
    "objects nested past the recursion limit": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "lone high surrogate": b'{"email": "\\ud800@example.com", "name": "x"}',
    "lone low surrogate in a key": b'{"\\udfff": 1}',
    "surrogates in the wrong order": b'{"code": "\\udc00\\ud800", "name": "T"}',
}
# Columns that change on any authenticated request, valid or not.
VOLATILE = {("devices", "last_seen_at")}


def _snapshot() -> dict[str, list[tuple]]:
    state = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
        rows = db.session.execute(sa.select(*columns)).all()
        state[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    db.session.rollback()
    return state


class Battery:
    """Send requests, check each answer, and check refused ones changed nothing."""

    def __init__(self, app: Flask, client: FlaskClient):
        self.app = app
        self.client = client
        self.sent = 0
        with app.app_context():
            self.state = _snapshot()

    def send(self, method: str, url: str, headers: dict[str, str], **kwargs: Any) -> int:
        self.sent += 1
        response = self.client.open(url, method=method, headers=headers, **kwargs)
        where = f"{method} {url} {kwargs.get('json', kwargs.get('data', ''))!r:.200}"
        assert response.status_code < 500, where
        with self.app.app_context():
            state = _snapshot()
        if response.status_code >= 400:
            body = response.get_json(silent=True)
            assert body and body["code"] == response.status_code and body["message"], where
            assert state == self.state, f"refused request changed data: {where}"
        self.state = state
        return response.status_code


def _operations(client: FlaskClient) -> Iterator[tuple[str, str, dict[str, Any]]]:
    spec = client.get("/api/openapi.json").json
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method != "parameters":
                yield method.upper(), path, operation


def _concrete(path: str, booth: Booth, lead_id: str) -> str:
    values = {
        "event_id": booth.event["id"],
        "user_id": booth.rep.id,
        "device_id": booth.tablet.id,
        "lead_id": lead_id,
        "job_id": 1,  # an alert job (dead letters): retrying a pending one is a 409
        "connection_id": 1,  # an event's CRM connection
        "sha256": "0" * 64,  # a card photo's name
    }
    return re.sub(r"\{(\w+)\}", lambda match: str(values[match.group(1)]), path)


def _valid_bodies(booth: Booth) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        ("POST", "/api/v1/auth/login"): {"email": booth.rep.email, "password": "wrong"},
        ("POST", "/api/v1/users"): {"email": "new@example.com", "name": "New", "role": "rep"},
        ("PATCH", "/api/v1/users/{user_id}"): {"name": "Renamed", "territory": ["DE"]},
        ("POST", "/api/v1/events"): event_body(),
        ("PATCH", "/api/v1/events/{event_id}"): event_body(),
        ("POST", "/api/v1/events/{event_id}/members"): {"user_id": booth.rep.id},
        ("POST", "/api/v1/devices/pairing-codes"): {"event_id": booth.event["id"]},
        ("POST", "/api/v1/devices/pair"): {"code": "AAAAA-AAAAA", "name": "T"},
        ("POST", "/api/v1/leads"): lead_body(booth.staff.id),
        ("PATCH", "/api/v1/leads/{lead_id}"): {"status": "disqualified", "reason": "x"},
        ("POST", "/api/v1/sync/push"): push_body(booth.staff.id),
        ("POST", "/api/v1/privacy/search"): {"email": "nobody@example.com", "phone": "+4930123456"},
        ("POST", "/api/v1/privacy/export"): {"email": "nobody@example.com", "country": "DE"},
        ("POST", "/api/v1/privacy/erase"): {"email": "nobody@example.com", "confirm": True},
        ("PUT", "/api/v1/privacy/events/{event_id}/retention"): {"retention_days": 30},
        ("PUT", "/api/v1/events/{event_id}/crm"): {
            "kind": "hubspot",
            "token": "pat-test",
            "field_mapping": {},
            "owner_mapping": {},
            "enabled": False,
        },
        ("POST", "/api/v1/sync/attachments"): {
            "lead_id": str(uuid.uuid4()),
            "sha256": "0" * 64,
            "size": 10,
            "content_type": "image/jpeg",
        },
        ("POST", "/api/v1/privacy/events/{event_id}/consent-texts"): {
            "language": "de",
            "text": "Sie dürfen mich kontaktieren.",
        },
    }


@pytest.fixture
def lead_id(api: ApiHelper, booth: Booth) -> str:
    return api.capture(booth.tablet, booth.staff)["id"]


@pytest.fixture
def battery(app: Flask, client: FlaskClient, booth: Booth, lead_id: str) -> Battery:
    """Return a battery whose baseline is taken after the booth and its lead exist."""
    return Battery(app, client)


def _callers(booth: Booth) -> list[dict[str, str]]:
    return [booth.admin.headers, booth.tablet.headers]


def _every_caller(booth: Booth) -> dict[str, dict[str, str]]:
    """Name every kind of caller: nobody, each role, and a paired tablet."""
    people = {name: getattr(booth, name).headers for name in ("admin", "marketer", "staff", "rep")}
    return {"nobody": {}, **people, "tablet": booth.tablet.headers}


def _is_unauthenticated(operation: dict[str, Any]) -> bool:
    return operation.get("security") == []


def test_malformed_bodies(battery: Battery, booth: Booth, lead_id: str, client: FlaskClient):
    bodies = _valid_bodies(booth)
    for method, path, operation in _operations(client):
        if "requestBody" not in operation:
            continue
        url = _concrete(path, booth, lead_id)
        for headers in _callers(booth):
            for raw in RAW_BODIES:
                battery.send(method, url, headers, data=raw, content_type="application/json")
            battery.send(method, url, headers, data="a=1", content_type="text/plain")
            valid = bodies[(method, path)]
            battery.send(method, url, headers, json={**valid, "unexpected_field": 1})
            for name in valid:
                for junk in JUNK_VALUES:
                    battery.send(method, url, headers, json={**valid, name: junk})
    assert battery.sent > 1000


def test_malformed_bodies_on_unauthenticated_operations(
    battery: Battery, booth: Booth, client: FlaskClient
):
    bodies = _valid_bodies(booth)
    operations = [op for op in _operations(client) if _is_unauthenticated(op[2])]
    assert {(method, path) for method, path, _ in operations} >= {
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/devices/pair"),
    }
    for method, path, _operation in operations:
        for raw in RAW_BODIES:
            status = battery.send(method, path, {}, data=raw, content_type="application/json")
            assert status in (400, 422), (method, path, raw[:20], status)
        battery.send(method, path, {}, data="a=1", content_type="text/plain")
        valid = bodies[(method, path)]
        assert battery.send(method, path, {}, json={**valid, "unexpected_field": 1}) == 422
        for name in valid:
            for junk in JUNK_VALUES:
                battery.send(method, path, {}, json={**valid, name: junk})
    assert battery.sent > 80


def test_bodies_the_decoder_refuses_are_400_for_every_caller(
    battery: Battery, booth: Booth, lead_id: str, client: FlaskClient
):
    for method, path, operation in _operations(client):
        if "requestBody" not in operation:
            continue
        url = _concrete(path, booth, lead_id)
        read_by: set[str] = set()
        for caller, headers in _every_caller(booth).items():
            for kind, raw in DECODER_REFUSALS.items():
                where = f"{method} {path} as {caller}: {kind}"
                status = battery.send(
                    method, url, headers, data=raw, content_type="application/json"
                )
                # A caller may be turned away before the body is read; never a 2xx or a 5xx.
                assert status in (400, 401, 403), f"{where}: {status}"
                if status == 400:
                    read_by.add(caller)
        # Whoever may call the operation has its body read, and refused.
        assert read_by, f"{method} {path}: no caller had the body read"
        if _is_unauthenticated(operation):
            assert "nobody" in read_by, f"{method} {path}"
    assert battery.sent > 400


def test_refused_body_names_the_reason(client: FlaskClient, booth: Booth):
    for kind, raw in DECODER_REFUSALS.items():
        response = client.post(
            "/api/v1/leads", headers=booth.tablet.headers, data=raw, content_type="application/json"
        )
        assert response.status_code == 400, kind
        body = response.get_json()
        assert body["code"] == 400 and body["status"] == "Bad Request", kind
        assert body["message"] == "The request body is not valid JSON.", kind
        assert len(body["errors"]["json"]) == 1 and body["errors"]["json"][0], kind


def test_surrogate_pairs_are_text_not_refusals(api: ApiHelper, client: FlaskClient, booth: Booth):
    body = json.dumps(lead_body(booth.staff.id, notes="\U0001f600 wants a demo"), ensure_ascii=True)
    assert "\\ud83d\\ude00" in body
    response = client.post(
        "/api/v1/leads", headers=booth.tablet.headers, data=body, content_type="application/json"
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["notes"] == "\U0001f600 wants a demo"


def test_nested_junk_in_lead_answers_and_consent(battery: Battery, booth: Booth):
    for junk in JUNK_VALUES:
        for field in ("answers", "consent"):
            for key in ("budget", "seats", "topics", "pain", "given", "version", "at"):
                body = lead_body(booth.staff.id, **{field: {key: junk}})
                battery.send("POST", "/api/v1/leads", booth.tablet.headers, json=body)
    assert battery.sent > 100


def test_junk_inside_pushed_mutations_is_rejected_not_fatal(battery: Battery, booth: Booth):
    mutation_id = 0
    for name in lead_body(booth.staff.id):
        for junk in JUNK_VALUES:
            mutation_id += 1
            mutation = create_mutation(mutation_id, booth.staff.id)
            mutation["fields"][name] = junk
            status = battery.send(
                "POST", "/api/v1/sync/push", booth.tablet.headers, json={"mutations": [mutation]}
            )
            assert status == 200
    assert battery.sent > 250


def test_malformed_query_strings(battery: Battery, booth: Booth, lead_id: str, client: FlaskClient):
    for method, path, operation in _operations(client):
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        url = _concrete(path, booth, lead_id)
        for headers in _callers(booth):
            for name in names:
                for junk in JUNK_QUERY:
                    battery.send(method, url, headers, query_string={name: junk})
    assert battery.sent > 100


def test_malformed_path_parameters(
    battery: Battery, booth: Booth, lead_id: str, client: FlaskClient
):
    for method, path, _operation in _operations(client):
        if "{" not in path:
            continue
        for junk in JUNK_PATH:
            url = re.sub(r"\{\w+\}", junk, path)
            for headers in _callers(booth):
                status = battery.send(method, url, headers, json={})
                assert status in (401, 403, 404, 405, 422), (method, url, status)


def test_oversized_bodies_are_413(battery: Battery, booth: Booth, app: Flask):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = lead_body(booth.staff.id, notes="n" * 100)
    padded = json.dumps({**body, "padding": "x" * (limit + 1)})
    status = battery.send(
        "POST", "/api/v1/leads", booth.tablet.headers, data=padded, content_type="application/json"
    )
    assert status == 413


def test_no_body_where_one_is_required(battery: Battery, booth: Booth, client: FlaskClient):
    for method, path, operation in _operations(client):
        if "requestBody" in operation:
            url = _concrete(path, booth, str(uuid.uuid4()))
            status = battery.send(method, url, booth.admin.headers)
            assert status in (403, 404, 422), (method, url, status)


def test_every_api_blueprint_reads_bodies_with_the_one_decoder(app: Flask):
    api_blueprints = [
        bp for bp in app.blueprints.values() if isinstance(bp, flask_smorest.Blueprint)
    ]
    assert len(api_blueprints) >= 10
    for blueprint in api_blueprints:
        assert isinstance(blueprint, json_body.Blueprint), blueprint.name
        assert isinstance(blueprint.ARGUMENTS_PARSER, json_body.JsonBodyParser), blueprint.name
