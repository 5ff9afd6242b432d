"""Normalise visitors' email addresses and phone numbers, the same way on tablet and server."""

from __future__ import annotations

import email_validator
import phonenumbers


class ContactError(ValueError):
    """A contact value that cannot be normalised; the message is safe to show."""


def normalise_email(raw: str) -> str:
    """Return the canonical form of an email address, or raise ContactError.

    Syntax only (no DNS): booth tablets are often offline. The whole address is
    lower-cased because duplicate detection must match ``Ann@X.com`` and
    ``ann@x.com``, and no mainstream provider treats the local part as case-sensitive.
    """
    candidate = raw.strip()
    if not candidate:
        raise ContactError("Enter an email address.")
    try:
        result = email_validator.validate_email(candidate, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        raise ContactError(str(error)) from None
    return result.normalized.lower()


def normalise_phone(raw: str, default_region: str | None) -> str:
    """Return a phone number in E.164, reading national numbers in default_region.

    default_region is an ISO 3166-1 alpha-2 code (the event's country); without
    one, only numbers written with a leading + are accepted.
    """
    candidate = raw.strip()
    if not candidate:
        raise ContactError("Enter a phone number.")
    region = default_region.upper() if default_region else None
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        raise ContactError("This is not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise ContactError("This phone number is not valid for its country.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_country_code(code: str) -> bool:
    """Tell whether code is an ISO 3166-1 alpha-2 region phonenumbers knows."""
    return code.upper() in phonenumbers.SUPPORTED_REGIONS
