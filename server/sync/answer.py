"""Write a push's answer as JSON straight from its dicts, as PushResultSchema would dump it.

A push answers up to 100 mutations; marshmallow's dump of them, then Flask's encoding, was
a few per cent of a push's CPU. The schema stays the description (and the OpenAPI document);
tests/test_push_answer.py checks both give the same JSON. Answers with conflicts (rare, and
holding values of any type) are left to the schema.
"""

from __future__ import annotations

from typing import Any

import msgspec

from server.sync.schemas import MutationResultSchema, PushResultSchema

_RESULT_FIELDS = tuple(MutationResultSchema().fields)
_ANSWER_FIELDS = tuple(name for name in PushResultSchema().fields if name != "results")
_ENCODER = msgspec.json.Encoder()


def encode_push_answer(answer: dict[str, Any]) -> bytes | None:
    """Return the answer as JSON, or None when it has conflicts (dump it with the schema)."""
    results = answer["results"]
    if any(result.get("conflicts") for result in results):
        return None
    body: dict[str, Any] = {name: answer[name] for name in _ANSWER_FIELDS if name in answer}
    body["results"] = [
        {name: result[name] for name in _RESULT_FIELDS if name in result} for result in results
    ]
    return _ENCODER.encode(body)
