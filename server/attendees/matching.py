"""Find attendee rows of a person cheaply, for erasures and for skipping erased people.

Normalising every address of a 200,000-row list with sync/contact.py would cost more
than the rest of the import together (email-validator and phonenumbers take about
0.1 ms each), so rows keep cheap match keys and only the few candidates they find
are normalised for the exact comparison.
"""

from __future__ import annotations

import re

from sync.contact import ContactError, normalise_email, normalise_phone

# Addresses whose normal form (sync/contact.normalise_email) is just their lower case.
_SIMPLE_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,63}"
)
TAIL_DIGITS = 8
_NOT_DIGIT = re.compile(r"\D")


def email_key(raw: str | None) -> str | None:
    """Return the form an attendee's email is stored and matched in."""
    if not raw:
        return None
    lowered = raw.strip().lower()
    if not lowered or _SIMPLE_EMAIL.fullmatch(lowered):
        return lowered or None
    try:
        return normalise_email(lowered)
    except ContactError:
        return lowered  # kept as given: the tablet's form will ask for a valid one


def phone_tail(raw: str | None) -> str | None:
    """Return the last digits of a phone number as written, or None."""
    digits = _NOT_DIGIT.sub("", raw or "")
    return digits[-TAIL_DIGITS:] if len(digits) >= 6 else None


def same_phone(raw: str | None, normalised: str, region: str | None) -> bool:
    """Tell whether raw, read in region, is the normalised (E.164) number."""
    if not raw:
        return False
    try:
        return normalise_phone(raw, region) == normalised
    except ContactError:
        return False
