"""Badge id normalisation (sync/attendees.py): the one rule server and tablet share."""

from __future__ import annotations

import pytest

from sync.attendees import RulesError, check_rules, normalise_id

RULES = {"prefix": "REG-", "url_pattern": "https://reg.example.com/b/{id}"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12345", "12345"),
        ("  reg-12345 ", "12345"),
        ("REG-ab-7", "AB-7"),
        ("https://reg.example.com/b/12345", "12345"),
        ("HTTPS://REG.EXAMPLE.COM/b/REG-12345/", "12345"),
        ("https://reg.example.com/b/12345?utm=badge", "12345"),
        ("https://other.example.com/b/12345", None),
        ("https://reg.example.com/b/", None),
        ("BEGIN:VCARD\nFN:Ann\nEND:VCARD", None),
        ("two words", None),
        ("", None),
        (None, None),
    ],
)
def test_ids_from_badges_and_lists_meet_in_one_form(raw: str | None, expected: str | None) -> None:
    assert normalise_id(raw, RULES) == expected


def test_without_rules_an_id_is_kept_whole_and_urls_name_nobody() -> None:
    assert normalise_id("reg-12345") == "REG-12345"
    assert normalise_id("https://reg.example.com/b/12345") is None


def test_rules_are_checked() -> None:
    assert check_rules({"prefix": " REG- ", "url_pattern": ""}) == {"prefix": "REG-"}
    with pytest.raises(RulesError) as raised:
        check_rules({"url_pattern": "https://x.example/b/", "suffix": "x"})
    assert set(raised.value.errors) == {"url_pattern", "suffix"}
    with pytest.raises(RulesError):
        check_rules({"url_pattern": "https://x.example/{id}/{id}"})
