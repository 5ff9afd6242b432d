"""Check a lead's answers against an event's qualification questions.

Questions are plain dicts as the server stores and syncs them::

    {"id": "budget", "label": "Budget confirmed?", "type": "yes_no", "required": True}

Types: single_choice and multiple_choice (with "options"), yes_no, number and text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from sync.bounds import MAX_NUMBER, text_problem

QUESTION_TYPES = ("single_choice", "multiple_choice", "yes_no", "number", "text")
CHOICE_TYPES = ("single_choice", "multiple_choice")
MAX_TEXT_ANSWER = 2000


def _is_number(value: Any) -> bool:
    # bool is an int in Python, but True is not an answer to "How many seats?".
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and abs(value) <= MAX_NUMBER


def _answer_error(question: Mapping[str, Any], value: Any) -> str | None:
    kind = question["type"]
    options = question.get("options") or []
    if kind == "single_choice":
        if not isinstance(value, str) or value not in options:
            return "Choose one of the offered options."
    elif kind == "multiple_choice":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "Give a list of the offered options."
        if len(set(value)) != len(value) or not set(value) <= set(options):
            return "Choose each offered option at most once."
    elif kind == "yes_no":
        if not isinstance(value, bool):
            return "Answer yes (true) or no (false)."
    elif kind == "number":
        if not _is_number(value):
            return "Give a number."
    elif kind == "text":
        if not isinstance(value, str) or len(value) > MAX_TEXT_ANSWER:
            return f"Give text of at most {MAX_TEXT_ANSWER} characters."
        return text_problem(value)
    return None


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def answer_errors(
    questions: Sequence[Mapping[str, Any]], answers: Mapping[str, Any]
) -> dict[str, list[str]]:
    """Return errors keyed by question id; an empty dict means the answers are valid."""
    by_id = {question["id"]: question for question in questions}
    errors: dict[str, list[str]] = {}
    for key, value in answers.items():
        question = by_id.get(key)
        if question is None:
            errors[str(key)] = ["This event has no such question."]
        elif not _is_blank(value):
            message = _answer_error(question, value)
            if message:
                errors[key] = [message]
    for question in questions:
        if question.get("required") and _is_blank(answers.get(question["id"])):
            errors.setdefault(question["id"], []).append("This question must be answered.")
    return errors


def drop_blank_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Return answers without the unanswered questions."""
    return {key: value for key, value in answers.items() if not _is_blank(value)}
