"""Keep email addresses and phone numbers out of every log record, whoever logs them.

Installed as a log record factory (install_log_scrubbing, called by the application
factory, so by the server, the CLI and the worker): each record's message and any
exception text, with its chained causes, are rewritten when the record is made, before
any handler, formatter or test capture sees it. Names cannot be recognised reliably, so
code must never log them, and the values a database error quotes (its statement's
parameters, PostgreSQL's failing row) are cut out whole; tests/privacy/test_logs.py
checks a full capture-sync-alert run, and a push failing in the database, for them.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
# The same address URL-encoded, as an HTTP client logs a path such as HubSpot's
# /crm/v3/objects/contacts/ann%40example.com?idProperty=email.
ENCODED_EMAIL = re.compile(r"[\w.+%-]+%40[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
# Credentials some APIs take in the query string (Pipedrive's api_token), as URLs are logged.
URL_SECRET = re.compile(r"((?:api_token|access_token|hapikey|token)=)[^&\s\"'#]+", re.IGNORECASE)
# 7 to 15 digits, optionally after +, with up to two spaces, dots, dashes or brackets between.
PHONE = re.compile(r"(?<![\w.+-])\+?\(?\d(?:[\s().-]{0,2}\d){6,14}(?![\w-])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Database errors quote the values they choked on: SQLAlchemy's "[parameters: ...]" line
# (our engines hide it; an engine made elsewhere may not) and PostgreSQL's DETAIL line
# ("Failing row contains (<every column>)", "Key (email)=(<address>) already exists").
# Each runs to the end of its line, as the driver writes it.
_STATEMENT_PARAMETERS = re.compile(r"\[parameters: .*")
_ROW_DETAIL = re.compile(r"(DETAIL:\s+)(?:Failing row contains|Key \(.*?\)=).*")
_MARK = "_leadbridge_scrubbing"


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    # Dates and times ("2026-11-23 10") look like digit runs; they name no one.
    return text if _DATE.match(text) else "[phone]"


def scrub(text: str) -> str:
    """Return text with email addresses, phone numbers, URL tokens and database rows replaced."""
    if "[parameters: " in text:
        text = _STATEMENT_PARAMETERS.sub("[parameters hidden]", text)
    if "DETAIL:" in text:
        text = _ROW_DETAIL.sub(r"\1[values hidden]", text)
    if "@" in text:
        text = EMAIL.sub("[email]", text)
    if "%40" in text:
        text = ENCODED_EMAIL.sub("[email]", text)
    if "=" in text:
        text = URL_SECRET.sub(r"\1[hidden]", text)
    return PHONE.sub(_phone, text)


def _scrub_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed format string: leave it for logging to report
        return
    cleaned = scrub(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        # The whole chain: a database error's cause is the driver's, quoting the row.
        text = "".join(traceback.format_exception(*record.exc_info, chain=True)).rstrip()
        record.exc_text = scrub(text)


def install_log_scrubbing() -> None:
    """Scrub every log record made in this process from now on (idempotent)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, _MARK, False):
        return

    def scrubbing_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        _scrub_record(record)
        return record

    setattr(scrubbing_factory, _MARK, True)
    logging.setLogRecordFactory(scrubbing_factory)
