"""Badge ids of an event's attendee list: the one normalisation both server and tablet use.

Organisers print a registration id on the badge, bare (``12345``), with a prefix
(``REG-12345``) or inside a URL (``https://reg.example.com/b/12345``). Each event
configures how its ids are written (``badge_rules``); the server normalises the ids
of an imported list with it, and the tablet normalises a scanned badge with the same
rules, so both arrive at the same key.

Rules: ``{"prefix": "REG-", "url_pattern": "https://reg.example.com/b/{id}"}``, both
optional. ``{id}`` marks where the id sits in the URL; a URL that does not fit the
pattern gives no id. Ids compare without case, surrounding spaces and the prefix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sync.badge import detect_format

# What an attendee row carries to the tablet (and the capture form it fills).
ATTENDEE_FIELDS = ("first_name", "last_name", "email", "phone", "company", "job_title", "country")
MAX_ID_LENGTH = 128
MAX_PREFIX_LENGTH = 40
MAX_PATTERN_LENGTH = 300
ID_MARK = "{id}"
# A normalised id: what the organiser's export and a badge agree on.
_ID = re.compile(r"[A-Z0-9][A-Z0-9._:/#+\-]{0,127}")
# The characters an id may have inside a URL pattern (no '/' or '?': those end it).
_ID_IN_URL = r"(?P<id>[A-Za-z0-9][A-Za-z0-9._:#+\-]{0,127})"


class RulesError(ValueError):
    """Badge rules that cannot be used; errors are keyed by rule, messages safe to show."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(f"invalid badge rules: {', '.join(sorted(errors))}")
        self.errors = errors


def check_rules(rules: Mapping[str, Any] | None) -> dict[str, str]:
    """Return rules in their stored form (only the keys set); raise RulesError."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    for key, value in (rules or {}).items():
        if key not in ("prefix", "url_pattern"):
            errors[key] = ["Badge rules are prefix and url_pattern."]
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if not isinstance(value, str):
            errors[key] = ["Give text."]
            continue
        value = value.strip()
        if key == "prefix" and len(value) > MAX_PREFIX_LENGTH:
            errors[key] = [f"Keep the prefix to {MAX_PREFIX_LENGTH} characters."]
        elif key == "url_pattern":
            if value.count(ID_MARK) != 1:
                errors[key] = [
                    "Put {id} once where the badge id sits, like https://x.example/b/{id}."
                ]
            elif len(value) > MAX_PATTERN_LENGTH:
                errors[key] = [f"Keep the pattern to {MAX_PATTERN_LENGTH} characters."]
        if key not in errors:
            cleaned[key] = value
    if errors:
        raise RulesError(errors)
    return cleaned


@lru_cache(maxsize=64)
def _url_regex(pattern: str) -> re.Pattern[str]:
    before, _, after = pattern.partition(ID_MARK)
    # Scheme and host compare without case; a trailing slash or query string is allowed.
    return re.compile(
        re.escape(before) + _ID_IN_URL + re.escape(after) + r"/?(?:[?#].*)?", re.IGNORECASE
    )


def _strip_prefix(text: str, prefix: str | None) -> str:
    if prefix and text.upper().startswith(prefix.upper()):
        return text[len(prefix) :].strip()
    return text


def normalise_id(raw: str | None, rules: Mapping[str, Any] | None = None) -> str | None:
    """Return the normalised badge id in raw (an id, or a URL with one), or None.

    raw is a scanned badge's text or an id from the organiser's list; None means it
    names no attendee (a vCard, a URL of another shape, an empty cell).
    """
    if raw is None:
        return None
    text = str(raw).strip()
    if not text or len(text) > 2000:
        return None
    rules = rules or {}
    pattern = rules.get("url_pattern")
    if "://" in text:
        if not pattern:
            return None
        found = _url_regex(pattern).fullmatch(text)
        if found is None:
            return None
        text = found.group("id")
    elif detect_format(text) != "id":
        return None
    text = _strip_prefix(text, rules.get("prefix")).upper()
    return text if _ID.fullmatch(text) else None


def lookup_text(badge_id: str) -> str:
    """Return what the tablet hashes to index an attendee (apart from emails and phones)."""
    return "attendee\x1f" + badge_id
