"""A push's answer written by msgspec is the JSON PushResultSchema's dump would have been."""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from server.sync.answer import encode_push_answer
from server.sync.schemas import PushResultSchema
from tests.helpers import Booth, create_mutation

MESSAGES = st.lists(st.text(max_size=30), min_size=1, max_size=3)
ERRORS = st.dictionaries(
    st.text(max_size=12),
    MESSAGES | st.dictionaries(st.text(max_size=8), MESSAGES, max_size=2),
    max_size=3,
)
RESULT = st.fixed_dictionaries(
    {
        "mutation_id": st.integers(min_value=1, max_value=2**53),
        "lead_id": st.uuids(),
        "outcome": st.sampled_from(["applied", "rejected"]),
        "replayed": st.booleans(),
        "server_version": st.none() | st.integers(min_value=1, max_value=2**53),
        "conflicts": st.just([]),
        "errors": ERRORS,
    },
    optional={"previously_erased": st.just(True), "merged_into_id": st.uuids()},
)
ANSWER = st.fixed_dictionaries(
    {
        "results": st.lists(RESULT, max_size=5),
        "last_mutation_id": st.integers(min_value=0, max_value=2**53),
    }
)


def _as_the_schema_writes_it(app: Flask, answer: dict[str, Any]) -> Any:
    with app.app_context():
        return json.loads(app.json.dumps(PushResultSchema().dump(answer)))


@settings(max_examples=200, deadline=None)
@given(ANSWER)
def test_an_answer_without_conflicts_is_the_schemas_json(answer: dict[str, Any]) -> None:
    app = Flask(__name__)
    encoded = encode_push_answer(answer)
    assert encoded is not None
    assert json.loads(encoded) == _as_the_schema_writes_it(app, answer)


def test_an_answer_with_conflicts_is_left_to_the_schema() -> None:
    conflict = {"field": "notes", "server_value": "Kept", "device_value": "Sent"}
    result = {
        "mutation_id": 1,
        "lead_id": uuid.uuid4(),
        "outcome": "applied",
        "replayed": False,
        "server_version": 3,
        "conflicts": [conflict],
        "errors": {},
    }
    assert encode_push_answer({"results": [result], "last_mutation_id": 1}) is None


def test_a_real_push_is_answered_with_every_field_the_schema_names(
    client: FlaskClient, booth: Booth
) -> None:
    good = create_mutation(1, booth.staff.id)
    bad = create_mutation(2, booth.staff.id, email="not an email")
    response = client.post(
        "/api/v1/sync/push", json={"mutations": [good, bad]}, headers=booth.tablet.headers
    )
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    applied, rejected = response.json["results"]
    assert response.json["last_mutation_id"] == 2
    assert applied["lead_id"] == str(good["lead_id"]) and applied["outcome"] == "applied"
    assert isinstance(applied["server_version"], int) and applied["replayed"] is False
    assert rejected["outcome"] == "rejected" and rejected["server_version"] is None
    assert "email" in rejected["errors"]
    assert PushResultSchema().validate(response.json) == {}
