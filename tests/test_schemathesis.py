"""Fuzz the API from its own OpenAPI document with schemathesis, as every kind of caller.

For each role, every documented operation gets a bounded number of generated requests
(valid and invalid bodies, queries and path ids, in both of schemathesis' modes; about
half of them aimed at the booth's real ids so the deep paths run too). Every answer must
be free of 5xx, carry a documented status and content type, and match the documented
schema for that status.

Logout and revoke are left out: they would end the caller's own session mid-run, and
tests/test_access.py and tests/test_security.py cover them.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import ApiHelper, Booth

EXAMPLES = int(os.environ.get("LEADBRIDGE_FUZZ_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SKIPPED = {
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/devices/{device_id}/revoke"),
}
ROLES = ("admin", "marketer", "rep", "staff", "tablet")


def _headers(booth: Booth, role: str) -> dict[str, str]:
    if role == "tablet":
        return booth.tablet.headers
    return getattr(booth, role).headers


def _real_ids(booth: Booth, lead_id: str) -> dict[str, Any]:
    return {
        "event_id": booth.event["id"],
        "user_id": booth.rep.id,
        "device_id": booth.tablet.id,
        "lead_id": lead_id,
    }


def _aim(case: Any, real: dict[str, Any]) -> None:
    """Point about half the generated cases at ids that exist, by the generated id's parity."""
    for name, value in (case.path_parameters or {}).items():
        if name in real and hash(str(value)) % 2 == 0:
            case.path_parameters[name] = real[name]


def _fuzz(
    operation: Any, headers: dict[str, str], real: dict[str, Any], statuses: Counter[int]
) -> str | None:
    """Run the bounded fuzz of one operation; return the first failure's text, if any."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(GenerationMode.POSITIVE)
        | operation.as_strategy(GenerationMode.NEGATIVE)
    )
    def run(case: Any) -> None:
        _aim(case, real)
        response = case.call(headers=headers)
        statuses[response.status_code // 100 * 100] += 1
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Exception as error:  # schemathesis raises a FailureGroup of check failures
        return f"{operation.label}: {error}"
    return None


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_conforms_to_the_document(
    role: str, app: Flask, api: ApiHelper, booth: Booth
) -> None:
    lead_id = api.capture(booth.tablet, booth.staff)["id"]
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures, tried, statuses = [], 0, Counter[int]()
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        tried += 1
        failure = _fuzz(operation, _headers(booth, role), _real_ids(booth, lead_id), statuses)
        if failure:
            failures.append(failure)
    assert tried >= 25, "the OpenAPI document lost its operations"
    # The run reached real data (2xx) and was refused too (4xx): it exercised the server.
    assert statuses[200] > 0 and statuses[400] > 0, statuses
    assert not failures, "\n\n".join(failures)
