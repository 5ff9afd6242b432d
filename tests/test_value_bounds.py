"""Every value the API accepts can be stored, compared and rendered.

Each class of value below used to be accepted and then fail where it was converted: in
the database driver (a 500 for the whole push, every push after), in the alert's
rendering (a job retried for ever), or in a list query. Now each is refused where it
is sent, with the reason, and the rest of the batch arrives.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.leads.models import Lead
from sync.bounds import DAY_MESSAGE, TIME_MESSAGE
from tests.helpers import Booth, create_mutation, event_body

# The issue's case: a valid ISO 8601 time whose UTC instant falls before year 1.
POISON_TIME = "0001-01-01T00:30:00+01:00"

VALUE_CLASSES = [
    pytest.param(("consent", "at"), POISON_TIME, id="utc-instant-before-year-1"),
    pytest.param(("captured_at",), "9999-12-31T23:30:00-01:00", id="utc-instant-after-9999"),
    # Valid in UTC, past year 9999 in the event's zone (Berlin): the alert cannot show it.
    pytest.param(("captured_at",), "9999-12-31T23:30:00+00:00", id="after-9999-in-event-zone"),
]


def _set(fields: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        fields = fields[key]
    fields[path[-1]] = value


def _push(client: FlaskClient, booth: Booth, mutations: list[dict[str, Any]]) -> Any:
    return client.post(
        "/api/v1/sync/push", json={"mutations": mutations}, headers=booth.tablet.headers
    )


def test_the_issues_poison_lead_is_rejected_with_its_reason_and_the_others_arrive(
    app: Flask, booth: Booth, client: FlaskClient
) -> None:
    mutations = [create_mutation(i, booth.staff.id) for i in range(1, 6)]
    mutations[2]["fields"]["consent"]["at"] = POISON_TIME
    response = _push(client, booth, mutations)
    assert response.status_code == 200, response.json
    results = response.json["results"]
    assert [r["outcome"] for r in results] == [
        "applied",
        "applied",
        "rejected",
        "applied",
        "applied",
    ]
    assert results[2]["errors"] == {"consent": {"at": [TIME_MESSAGE]}}
    with app.app_context():
        stored = {str(i) for i in db.session.scalars(sa.select(Lead.id))}
    assert stored == {m["lead_id"] for i, m in enumerate(mutations) if i != 2}


@pytest.mark.parametrize(("path", "value"), VALUE_CLASSES)
def test_each_class_of_value_that_used_to_fail_is_rejected_alone_with_its_reason(
    booth: Booth, client: FlaskClient, path: tuple[str, ...], value: str
) -> None:
    mutations = [create_mutation(i, booth.staff.id) for i in range(1, 4)]
    _set(mutations[1]["fields"], path, value)
    response = _push(client, booth, mutations)
    assert response.status_code == 200, response.json
    results = response.json["results"]
    assert [r["outcome"] for r in results] == ["applied", "rejected", "applied"]
    errors = results[1]["errors"]
    for key in path:
        errors = errors[key]
    assert errors and isinstance(errors[0], str) and "server could not" not in errors[0]


def test_a_lead_search_from_an_out_of_range_time_is_a_422(
    booth: Booth, client: FlaskClient
) -> None:
    response = client.get(
        "/api/v1/leads", query_string={"captured_from": POISON_TIME}, headers=booth.admin.headers
    )
    assert response.status_code == 422
    assert TIME_MESSAGE in str(response.json["errors"])


# The last: its leads' retention (up to ten years) is added to the event's last day.
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "9995-06-01"])
def test_an_event_whose_days_cannot_be_computed_with_is_a_422(
    booth: Booth, client: FlaskClient, day: str
) -> None:
    body = event_body(starts_on=day, ends_on=day)
    response = client.post("/api/v1/events", json=body, headers=booth.marketer.headers)
    assert response.status_code == 422
    assert DAY_MESSAGE in str(response.json["errors"])
