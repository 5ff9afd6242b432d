"""Which column of the organiser's file holds which attendee field."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sync.attendees import ATTENDEE_FIELDS

MAPPED_FIELDS = ("badge_id", *ATTENDEE_FIELDS)
LABELS = {
    "badge_id": "Badge id",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "company": "Company",
    "job_title": "Job title",
    "country": "Country (2 letters)",
}
# Headings organisers' exports commonly use, compared without case, spaces or punctuation.
_GUESSES = {
    "badge_id": ("badgeid", "badge", "badgenumber", "registrationid", "regid", "attendeeid", "id"),
    "first_name": ("firstname", "givenname", "forename", "vorname", "prenom"),
    "last_name": ("lastname", "surname", "familyname", "nachname", "nom"),
    "email": ("email", "emailaddress", "mail", "e-mail"),
    "phone": ("phone", "phonenumber", "telephone", "mobile", "tel", "telefon"),
    "company": ("company", "organisation", "organization", "firma", "employer"),
    "job_title": ("jobtitle", "title", "position", "role", "function"),
    "country": ("country", "countrycode", "land", "pays"),
}


class MappingError(ValueError):
    """A mapping the import cannot use; errors are keyed by field, messages safe to show."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(f"invalid column mapping: {', '.join(sorted(errors))}")
        self.errors = errors


def _squash(heading: str) -> str:
    return re.sub(r"[\s_\-.]+", "", heading.casefold())


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """Return a first guess of {field: heading} from the file's headings."""
    by_name = {_squash(name): name for name in headers if name}
    guess: dict[str, str] = {}
    for field, names in _GUESSES.items():
        for name in names:
            heading = by_name.get(_squash(name))
            if heading is not None and heading not in guess.values():
                guess[field] = heading
                break
    return guess


def check_mapping(chosen: Mapping[str, str | None], headers: list[str]) -> dict[str, str]:
    """Return {field: heading} for the fields given a column; raise MappingError."""
    errors: dict[str, list[str]] = {}
    mapping: dict[str, str] = {}
    used: dict[str, str] = {}
    for field in MAPPED_FIELDS:
        heading = (chosen.get(field) or "").strip()
        if not heading:
            continue
        if heading not in headers:
            errors[field] = [f"The file has no column named {heading!r}."]
        elif heading in used:
            errors[field] = [f"That column is already chosen for {LABELS[used[heading]]}."]
        else:
            mapping[field] = heading
            used[heading] = field
    unknown = sorted(set(chosen) - set(MAPPED_FIELDS))
    if unknown:
        errors["_form"] = [f"Unknown fields: {', '.join(unknown)}."]
    if "badge_id" not in mapping and "badge_id" not in errors:
        errors["badge_id"] = ["Choose the column that holds the badge id."]
    if len(mapping) < 2 and not errors:
        errors["_form"] = ["Choose at least one column besides the badge id."]
    if errors:
        raise MappingError(errors)
    return mapping
