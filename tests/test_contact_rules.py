"""The shared rules tablet and server both use: contact normalisation and answer checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.contact import ContactError, normalise_email, normalise_phone
from sync.questions import answer_errors, drop_blank_answers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ann@Example.COM", "ann@example.com"),
        ("  bob.smith+expo@mail.example.org ", "bob.smith+expo@mail.example.org"),
        ("J\u00f6rg@M\u00fcller.de", "j\u00f6rg@m\u00fcller.de"),
    ],
)
def test_emails_normalise(raw: str, expected: str):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "ann", "ann@", "@example.com", "a b@example.com", "a@b@c"])
def test_bad_emails_are_refused(raw: str):
    with pytest.raises(ContactError):
        normalise_email(raw)


@given(st.emails())
def test_normalising_an_email_twice_changes_nothing(email: str):
    try:
        once = normalise_email(email)
    except ContactError:
        return
    assert normalise_email(once) == once


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("030 1234567", "DE", "+49301234567"),
        ("+44 20 7946 0958", "DE", "+442079460958"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("+49 (0)30 1234567", None, "+49301234567"),
    ],
)
def test_phones_normalise_to_e164(raw: str, region: str | None, expected: str):
    assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region"), [("12", "DE"), ("030 1234567", None), ("call me", "GB")]
)
def test_bad_phones_are_refused(raw: str, region: str | None):
    with pytest.raises(ContactError):
        normalise_phone(raw, region)


QUESTIONS = [
    {"id": "budget", "label": "Budget?", "type": "yes_no", "required": True},
    {"id": "when", "label": "When?", "type": "single_choice", "options": ["Now", "Later"]},
    {"id": "topics", "label": "Topics", "type": "multiple_choice", "options": ["A", "B"]},
    {"id": "seats", "label": "Seats", "type": "number"},
    {"id": "pain", "label": "Pain", "type": "text"},
]


def test_valid_answers_pass():
    answers = {"budget": False, "when": "Later", "topics": ["B", "A"], "seats": 2.5, "pain": "x"}
    assert answer_errors(QUESTIONS, answers) == {}


@pytest.mark.parametrize(
    ("answers", "wrong"),
    [
        ({}, "budget"),
        ({"budget": None}, "budget"),
        ({"budget": "yes"}, "budget"),
        ({"budget": True, "when": "Soon"}, "when"),
        ({"budget": True, "topics": ["A", "A"]}, "topics"),
        ({"budget": True, "topics": "A"}, "topics"),
        ({"budget": True, "seats": True}, "seats"),
        ({"budget": True, "seats": float("inf")}, "seats"),
        ({"budget": True, "pain": "x" * 2001}, "pain"),
        ({"budget": True, "nope": 1}, "nope"),
    ],
)
def test_invalid_answers_are_named(answers: dict, wrong: str):
    assert set(answer_errors(QUESTIONS, answers)) == {wrong}


def test_blank_answers_are_dropped():
    assert drop_blank_answers({"a": "", "b": [], "c": None, "d": 0, "e": False}) == {
        "d": 0,
        "e": False,
    }
