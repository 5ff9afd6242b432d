"""Read repeated rows (questions, rules, ...) and small lists out of a posted settings form.

A row's fields are named ``<prefix>-<n>-<field>``: ``n`` only tells rows apart, the
``order`` field puts them in order, a ticked ``remove`` drops the row, and a row whose
fields are all empty (the spare row at the end of each list) is skipped. Posting the form
as is therefore adds, reorders and removes rows without any script; the page's script
only makes the same edits quicker.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

_ROW_FIELD = re.compile(r"^(?P<prefix>[a-z_]+)-(?P<n>\d{1,4})-(?P<field>[a-z_]+)$")
# A form holds at most this many rows of one list (the schemas allow fewer anyway).
MAX_ROWS = 500
CONTROL_FIELDS = ("order", "remove")


def rows(
    form: MultiDict[str, str],
    prefix: str,
    *,
    multi: Iterable[str] = (),
    preset: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Return the kept rows named prefix, in their order.

    Fields in multi keep every value (multiple selects); fields in preset (selects that
    always post a value) do not make a row count as filled in.
    """
    multi, preset = set(multi), set(preset)
    found: dict[int, dict[str, Any]] = {}
    for name in form:
        match = _ROW_FIELD.match(name)
        if not match or match["prefix"] != prefix:
            continue
        number = int(match["n"])
        if number not in found and len(found) >= MAX_ROWS:
            continue
        field = match["field"]
        row = found.setdefault(number, {})
        if field in multi:
            row[field] = [value.strip() for value in form.getlist(name) if value.strip()]
        else:
            row[field] = form.get(name, "").strip()
    kept = []
    for number, row in found.items():
        if row.get("remove"):
            continue
        content = {key: value for key, value in row.items() if key not in CONTROL_FIELDS}
        if not any(value for key, value in content.items() if key not in preset):
            continue
        kept.append((_order(row.get("order"), number), number, content))
    kept.sort(key=lambda item: (item[0], item[1]))
    return [content for _order_key, _number, content in kept]


def _order(text: Any, number: int) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float(number)


def lines(text: str) -> list[str]:
    """Return the non-empty lines of text, stripped, in order."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def words(text: str) -> list[str]:
    """Return the items of a comma-, space- or line-separated list."""
    return [item for item in re.split(r"[,;\s]+", text) if item]


def phrases(text: str) -> list[str]:
    """Return the items of a comma- or line-separated list (items may contain spaces)."""
    return [item.strip() for item in re.split(r"[,\n]", text) if item.strip()]


def slug(text: str, taken: Iterable[str] = ()) -> str:
    """Return an id made of text (lower-case letters, digits, -), not one of taken."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:36] or "item"
    taken = set(taken)
    candidate, count = base, 1
    while candidate in taken:
        count += 1
        candidate = f"{base}-{count}"
    return candidate


def row_errors(messages: Any, noun: str, rows_shown: Mapping[int, int] | None = None) -> list[str]:
    """Return a list's schema errors as lines naming the row people see ('Question 2, label: …')."""
    if isinstance(messages, list):
        return [str(line) for line in messages]
    found = []
    for key, value in (messages or {}).items():
        if isinstance(key, int):
            where = f"{noun} {(rows_shown or {}).get(key, key + 1)}"
        else:
            where = noun + "s" if key == "_schema" else key.replace("_", " ")
        for field, line in _leaves(value):
            found.append(f"{where}, {field}: {line}" if field else f"{where}: {line}")
    return found


def _leaves(messages: Any, field: str = "") -> list[tuple[str, str]]:
    if isinstance(messages, dict):
        found = []
        for key, value in messages.items():
            name = field if key == "_schema" else (f"{field} {key}" if field else str(key))
            found += _leaves(value, name.replace("_", " "))
        return found
    if isinstance(messages, list):
        return [pair for item in messages for pair in _leaves(item, field)]
    return [(field, str(messages))]
