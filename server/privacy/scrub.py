"""Keep email addresses and phone numbers out of every log record, whoever logs them.

Installed as a log record factory (install_log_scrubbing, called by the application
factory, so by the server, the CLI and the worker): each record's message and any
exception text are rewritten when the record is made, before any handler, formatter
or test capture sees it. Names cannot be recognised reliably, so code must never log
them; tests/privacy/test_logs.py checks a full capture-sync-alert run for them.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
# 7 to 15 digits, optionally after +, with up to two spaces, dots, dashes or brackets between.
PHONE = re.compile(r"(?<![\w.+-])\+?\(?\d(?:[\s().-]{0,2}\d){6,14}(?![\w-])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MARK = "_leadbridge_scrubbing"


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    # Dates and times ("2026-11-23 10") look like digit runs; they name no one.
    return text if _DATE.match(text) else "[phone]"


def scrub(text: str) -> str:
    """Return text with email addresses and phone numbers replaced by placeholders."""
    if "@" in text:
        text = EMAIL.sub("[email]", text)
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
        record.exc_text = scrub("".join(traceback.format_exception(*record.exc_info)).rstrip())


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
