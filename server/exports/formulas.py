"""The CSV-injection rule, once: as a Python function and as the SQL PostgreSQL runs.

Spreadsheet programs run a cell that starts with = + - @ (or a tab or carriage return) as a
formula, so such text gets a leading apostrophe: a visitor who types ``=HYPERLINK(...)`` into
a badge field cannot make a marketer's spreadsheet act on it (OWASP "CSV injection").
A ``+`` followed only by digits and spaces is a phone number (E.164), not a formula, and is
left exactly as it is, so a CRM importing the file reads the number back unchanged.

Both forms are made from FORMULA_STARTS and PHONE_NUMBER below; a test checks that the CSV
written by each is the same, byte for byte.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Boolean, and_, case, func, literal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# ASCII digits only: a spreadsheet reads "+49 30 1234" as a number, which runs nothing.
# The same text is a Python and a PostgreSQL regular expression, anchored by each below.
PHONE_NUMBER = r"\+[0-9 ]*[0-9][0-9 ]*"
APOSTROPHE = "'"

_FIRST_CHARS = frozenset(FORMULA_STARTS)
_is_phone_number = re.compile(PHONE_NUMBER).fullmatch


def defuse(text: str) -> str:
    """Return text that a spreadsheet shows as text, never runs as a formula."""
    return APOSTROPHE + text if text[:1] in _FIRST_CHARS and not _is_phone_number(text) else text


# In PostgreSQL's regular expressions $ is the end of the text only (no newline before it).
_SQL_PHONE_NUMBER = f"^(?:{PHONE_NUMBER})$"


def defused_sql(text: Any) -> Any:
    """Return the SQL (PostgreSQL) of defuse(text); NULL stays NULL.

    text is named three times: make it a plain column (of a subquery) if it costs to compute.
    The first character is tested before the regular expression, which few cells reach.
    """
    formula = and_(
        # ascii() is the first character's code point: an integer test, cheaper than text's.
        func.ascii(text).in_([ord(char) for char in FORMULA_STARTS]),
        text.op("!~", return_type=Boolean)(literal(_SQL_PHONE_NUMBER)),
    )
    return case((formula, literal(APOSTROPHE) + text), else_=text)
