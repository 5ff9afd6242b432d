"""Turn the text of a scanned visitor badge into lead fields: the one badge parser.

Badges carry a vCard (2.1, 3.0 or 4.0), a MECARD, a BIZCARD, or just the organiser's
badge id. Whatever the format, the raw text is kept as the lead's ``badge_payload``
(the organiser's lead-retrieval service can resolve an id later) and ``source`` is
``badge``; contact fields are returned only when the format carries them.

No Kivy, no network: the tablet app calls this on decoded QR text, and tests call it
on plain strings.
"""

from __future__ import annotations

import quopri
import re
from collections.abc import Iterable

from sync.contact import is_country_code

# The server keeps at most this much of a badge (LeadContactSchema.badge_payload).
MAX_PAYLOAD = 4000
# Parse at most this much: a real badge is a few hundred bytes; a hostile or broken
# code must not cost more than a bounded amount of work.
MAX_PARSED = 16_000
# What one contact value may hold once parsed (the server's limits for these fields).
FIELD_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "phone": 40,
    "company": 200,
    "job_title": 200,
    "country": 2,
}
BADGE_FIELDS = tuple(FIELD_LIMITS)
FORMATS = ("vcard", "mecard", "bizcard", "id", "unknown")

# A plain badge id: one short token of printable characters, no URL.
_PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/#+\-]{0,127}")
# Control characters other than tab and line breaks: never part of a name or an address.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _decode(payload: str | bytes) -> str:
    if isinstance(payload, bytes):
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            return payload.decode("latin-1")
    return payload


def _clean_payload(text: str) -> str:
    # The store refuses NUL; the server keeps MAX_PAYLOAD characters.
    return text.replace("\x00", "")[:MAX_PAYLOAD]


def detect_format(payload: str | bytes) -> str:
    """Return which of FORMATS the payload is written in."""
    text = _decode(payload)[:MAX_PARSED].lstrip("\ufeff").strip()
    head = text[:16].upper()
    if head.startswith("BEGIN:VCARD"):
        return "vcard"
    if head.startswith("MECARD:"):
        return "mecard"
    if head.startswith("BIZCARD:"):
        return "bizcard"
    if _PLAIN_ID.fullmatch(text) and "://" not in text:
        return "id"
    return "unknown"


def parse_badge(payload: str | bytes) -> dict[str, str]:
    """Return lead fields read from a badge, with source and badge_payload always set.

    Contact fields (first_name, last_name, email, phone, company, job_title, country)
    appear only when the badge holds them; a badge id or an unknown format gives none.
    """
    raw = _decode(payload)
    kind = detect_format(raw)
    text = raw[:MAX_PARSED].lstrip("\ufeff").strip()
    if kind == "vcard":
        found = _parse_vcard(text)
    elif kind == "mecard":
        found = _parse_mecard(text)
    elif kind == "bizcard":
        found = _parse_bizcard(text)
    else:
        found = {}
    fields: dict[str, str] = {}
    for name in BADGE_FIELDS:
        value = _CONTROL.sub("", found.get(name) or "").strip()
        if value:
            fields[name] = value[: FIELD_LIMITS[name]]
    return {**fields, "source": "badge", "badge_payload": _clean_payload(raw.strip())}


def _country(value: str | None) -> str | None:
    """Return value as an alpha-2 country code, or None when it is not one."""
    candidate = (value or "").strip()
    if len(candidate) == 2 and is_country_code(candidate):
        return candidate.upper()
    return None


def _split_name(full: str) -> tuple[str, str]:
    """Split a display name into first and last name at its last space."""
    parts = full.strip().rsplit(None, 1)
    if len(parts) == 2:
        return parts[0], parts[1]
    return (parts[0], "") if parts else ("", "")


# -- vCard ------------------------------------------------------------------------------


def _unfold(text: str) -> list[str]:
    """Return the logical lines of a vCard: folded and quoted-printable soft breaks joined."""
    lines: list[str] = []
    for line in re.split(r"\r\n|\r|\n", text):
        if line[:1] in (" ", "\t") and lines:
            # RFC 6350 / 2426 folding: the continuation drops its first whitespace character.
            lines[-1] += line[1:]
        elif lines and lines[-1].endswith("=") and _is_quoted_printable(lines[-1]):
            # vCard 2.1 quoted-printable soft line break.
            lines[-1] = lines[-1][:-1] + line
        else:
            lines.append(line)
    return lines


def _is_quoted_printable(line: str) -> bool:
    head = line.split(":", 1)[0].upper()
    return "QUOTED-PRINTABLE" in head


def _split_unescaped(value: str, separator: str) -> list[str]:
    """Split at separators that are not escaped with a backslash."""
    parts, current, escaped = [], [], False
    for char in value:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        current.append("\\")
    parts.append("".join(current))
    return parts


def _unescape(value: str) -> str:
    """Undo vCard 3.0/4.0 and MECARD text escapes (\\n, \\, \\; \\: \\\\)."""

    def replace(match: re.Match[str]) -> str:
        char = match.group(1)
        return "\n" if char in "nN" else char

    return re.sub(r"\\(.)", replace, value)


class _Property:
    """One vCard content line: name, parameters and value."""

    def __init__(self, name: str, params: dict[str, list[str]], value: str):
        self.name = name
        self.params = params
        self.value = value

    @property
    def types(self) -> set[str]:
        return {t.lower() for t in self.params.get("TYPE", [])}

    @property
    def preferred(self) -> bool:
        return "pref" in self.types or "PREF" in self.params


def _parse_params(parts: Iterable[str]) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for part in parts:
        if not part:
            continue
        if "=" in part:
            key, _, value = part.partition("=")
            values = [v.strip('"') for v in _split_unescaped(value.strip('"'), ",")]
            params.setdefault(key.strip().upper(), []).extend(v for v in values if v)
        else:
            # vCard 2.1 bare parameters: ;WORK;VOICE or ;QUOTED-PRINTABLE.
            bare = part.strip().upper()
            if bare in ("QUOTED-PRINTABLE", "BASE64", "8BIT", "7BIT", "B"):
                params.setdefault("ENCODING", []).append(bare)
            else:
                params.setdefault("TYPE", []).append(bare)
    return params


def _parse_line(line: str) -> _Property | None:
    if ":" not in line:
        return None
    head, _, value = line.partition(":")
    # Quoted parameter values may contain ':' (4.0), so re-split if a quote is open.
    while head.count('"') % 2 and ":" in value:
        extra, _, value = value.partition(":")
        head = f"{head}:{extra}"
    pieces = _split_unescaped(head, ";")
    name = pieces[0].strip().upper()
    if "." in name:
        name = name.rsplit(".", 1)[1]  # drop a group prefix: item1.EMAIL
    params = _parse_params(pieces[1:])
    encodings = {e.upper() for e in params.get("ENCODING", [])}
    if "QUOTED-PRINTABLE" in encodings:
        charset = (params.get("CHARSET") or ["utf-8"])[0]
        data = quopri.decodestring(value.encode("latin-1", errors="replace"))
        try:
            value = data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            value = data.decode("latin-1")
    elif encodings & {"BASE64", "B"}:
        return None  # photos and keys: nothing a lead needs
    return _Property(name, params, value)


def _pick(props: list[_Property], name: str, prefer: tuple[str, ...] = ()) -> _Property | None:
    """Return the property to use: preferred first, then one of the preferred types."""
    candidates = [p for p in props if p.name == name and p.value.strip()]
    if not candidates:
        return None
    for prop in candidates:
        if prop.preferred:
            return prop
    for wanted in prefer:
        for prop in candidates:
            if wanted in prop.types:
                return prop
    return candidates[0]


def _components(prop: _Property | None, version: str) -> list[str]:
    if prop is None:
        return []
    if version == "2.1":
        # 2.1 has no backslash escapes for text, but ';' still separates components.
        return [part.strip() for part in prop.value.split(";")]
    return [_unescape(part).strip() for part in _split_unescaped(prop.value, ";")]


def _text_value(prop: _Property | None, version: str) -> str:
    if prop is None:
        return ""
    return prop.value.strip() if version == "2.1" else _unescape(prop.value).strip()


def _phone_value(prop: _Property | None) -> str:
    if prop is None:
        return ""
    value = _unescape(prop.value).strip()
    if value.lower().startswith("tel:"):
        # vCard 4.0 VALUE=uri: tel:+49-30-1234567;ext=12
        value = value[4:].split(";", 1)[0]
    return value


def _parse_vcard(text: str) -> dict[str, str]:
    props = [p for p in map(_parse_line, _unfold(text)) if p is not None]
    version_prop = _pick(props, "VERSION")
    version = version_prop.value.strip() if version_prop else "3.0"
    fields: dict[str, str] = {}
    names = _components(_pick(props, "N"), version)
    if names:
        fields["last_name"] = names[0]
        fields["first_name"] = " ".join(p for p in names[1:3] if p)
    if not fields.get("first_name") and not fields.get("last_name"):
        first, last = _split_name(_text_value(_pick(props, "FN"), version))
        fields["first_name"], fields["last_name"] = first, last
    email = _pick(props, "EMAIL", ("work", "internet"))
    fields["email"] = _text_value(email, version).removeprefix("mailto:")
    fields["phone"] = _phone_value(_pick(props, "TEL", ("work", "cell", "voice")))
    org = _components(_pick(props, "ORG"), version)
    fields["company"] = org[0] if org else ""
    fields["job_title"] = _text_value(_pick(props, "TITLE"), version) or _text_value(
        _pick(props, "ROLE"), version
    )
    address = _components(_pick(props, "ADR", ("work",)), version)
    fields["country"] = (_country(address[6]) if len(address) > 6 else None) or ""
    return fields


# -- MECARD and BIZCARD ------------------------------------------------------------------


def _card_items(text: str, prefix: str) -> list[tuple[str, str]]:
    """Return (KEY, value) pairs of a MECARD-like 'PREFIX:K:v;K:v;;' string, unescaped."""
    body = text[len(prefix) :]
    items = []
    for part in _split_unescaped(body, ";"):
        key, sep, value = part.partition(":")
        if not sep:
            continue
        items.append((key.strip().upper(), value))
    return items


def _first(items: list[tuple[str, str]], key: str) -> str:
    for name, value in items:
        if name == key and value.strip():
            return value
    return ""


def _parse_mecard(text: str) -> dict[str, str]:
    items = _card_items(text, "MECARD:")
    fields: dict[str, str] = {}
    name = _first(items, "N")
    # N:Last,First (docomo). A name without a comma is a display name.
    parts = _split_unescaped(name, ",")
    if len(parts) >= 2:
        fields["last_name"] = _unescape(parts[0]).strip()
        fields["first_name"] = _unescape(",".join(parts[1:])).strip()
    else:
        first, last = _split_name(_unescape(name))
        fields["first_name"], fields["last_name"] = first, last
    fields["email"] = _unescape(_first(items, "EMAIL"))
    fields["phone"] = _unescape(_first(items, "TEL"))
    fields["company"] = _unescape(_first(items, "ORG"))
    fields["job_title"] = _unescape(_first(items, "TITLE"))
    address = [_unescape(p) for p in _split_unescaped(_first(items, "ADR"), ",")]
    fields["country"] = (_country(address[-1]) if len(address) > 1 else None) or ""
    return fields


def _parse_bizcard(text: str) -> dict[str, str]:
    items = _card_items(text, "BIZCARD:")
    return {
        "first_name": _unescape(_first(items, "N")),
        "last_name": _unescape(_first(items, "X")),
        "job_title": _unescape(_first(items, "T")),
        "company": _unescape(_first(items, "C")),
        "phone": _unescape(_first(items, "B")),
        "email": _unescape(_first(items, "E")),
    }
