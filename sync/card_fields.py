"""Turn the text lines an OCR engine read off a business card into a lead's contact fields.

Emails and phones are normalised by the one set of rules in sync/contact.py, so a suggestion is
stored in exactly the form a typed value would be. The rest are layout rules that hold on most
cards: the name is the largest line of two to four capitalised words, the company carries a legal
form (GmbH, SARL, Ltd...) or the email's domain, the title carries a job word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers

from sync.contact import ContactError, normalise_email, normalise_phone

FIELDS = ("first_name", "last_name", "email", "phone", "company", "job_title", "website")

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_WEBSITE = re.compile(
    r"(?:https?://)?(?:www\.)[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/\S*)?|https?://[a-z0-9.-]+\.[a-z]{2,}\S*",
    re.IGNORECASE,
)
_FAX = re.compile(r"^\W*(fax|telefax|f)\b", re.IGNORECASE)
_PHONE_LABEL = re.compile(
    r"\b(tel|tél|phone|mobile|mobil|móvil|movil|mob|cell|portable|handy|t|m|p)\b\.?:?",
    re.IGNORECASE,
)
LEGAL_FORMS = {
    "gmbh", "ag", "kg", "ug", "se", "sas", "sarl", "sa", "s.a.", "s.a", "sl", "s.l.", "s.l", "ltd",
    "ltd.", "limited", "plc", "inc", "inc.", "llc", "corp", "corp.", "ab", "bv", "b.v.", "nv", "oy",
    "as", "asa", "aps", "spa", "s.p.a.", "srl", "s.r.l.", "co.", "gmbh.",
}  # fmt: skip
TITLE_WORDS = {
    "manager", "director", "directrice", "directeur", "directora", "head", "lead",
    "engineer", "ingénieur", "ingeniero", "ingeniera", "officer", "ceo", "cto", "cfo", "coo", "vp",
    "president", "founder", "partner", "consultant", "sales", "marketing", "procurement",
    "operations", "leiter", "leiterin", "geschäftsführer", "geschäftsführerin", "vertrieb",
    "vertriebsleiter", "einkauf", "responsable", "chef", "jefe", "jefa", "gerente", "chief",
    "försäljningschef", "inköpschef", "projet", "ventas", "compras", "achats", "commerciale",
    "specialist", "analyst", "architect", "developer", "buyer", "account", "product",
}  # fmt: skip


@dataclass(frozen=True)
class OcrLine:
    """One line of text an engine read, with its height in pixels (larger type stands out)."""

    text: str
    height: float = 0.0


def _fold(text: str) -> str:
    text = text.lower().replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", _fold(text))


def _repair(text: str) -> str:
    """Undo the slips OCR makes in addresses: spaces round '@' and dots, commas for dots."""
    text = re.sub(r"\s*@\s*", "@", text)
    text = re.sub(r"(?i)\bwww\s*[.,]\s*", "www.", text)
    # "example.co, uk" and "example .de": a comma or space inside a domain after '@' or 'www.'.
    text = re.sub(r"(?<=[\w-])\s*[,.]\s+(?=(?:[a-z]{2,3})\b)", ".", text)
    return " ".join(text.split())


def _take_email(lines: list[str]) -> str | None:
    for index, line in enumerate(lines):
        for match in _EMAIL.finditer(line):
            try:
                email = normalise_email(match.group(0).strip(".'-"))
            except ContactError:
                continue
            lines[index] = line.replace(match.group(0), " ")
            return email
    return None


def _take_website(lines: list[str]) -> str | None:
    for index, line in enumerate(lines):
        match = _WEBSITE.search(line)
        if match:
            lines[index] = line.replace(match.group(0), " ")
            site = re.sub(r"^https?://", "", match.group(0).lower()).rstrip("/.,;")
            return site
    return None


def _take_phone(lines: list[str], region: str | None) -> str | None:
    for index, line in enumerate(lines):
        if _FAX.search(line):
            continue
        text = line.replace("O", "0") if sum(c.isdigit() for c in line) >= 6 else line
        for match in phonenumbers.PhoneNumberMatcher(text, region or "ZZ"):
            if sum(c.isdigit() for c in match.raw_string) < 7:
                continue
            try:
                phone = normalise_phone(match.raw_string, region)
            except ContactError:
                continue
            rest = text[: match.start] + " " + text[match.end :]
            lines[index] = _PHONE_LABEL.sub(" ", rest)
            return phone
    return None


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"\s+", text.strip(" |,;:-")) if w]


def _is_company(text: str, domain: str | None) -> bool:
    words = _words(text)
    if any(w.lower().strip(",") in LEGAL_FORMS for w in words[1:]):
        return True
    if domain:
        stem = _letters(domain.split(".")[0])
        return len(stem) >= 4 and (stem in _letters(text) or _letters(text) in stem)
    return False


def _is_title(text: str) -> bool:
    return any(_fold(w).strip(".,") in {_fold(t) for t in TITLE_WORDS} for w in _words(text))


def _looks_like_name(text: str) -> bool:
    words = _words(text)
    if not 2 <= len(words) <= 4 or any(c.isdigit() for c in text):
        return False
    return all(re.fullmatch(r"[^\W\d_][\w'.-]*", w) and w[0].isupper() for w in words)


def _name_score(line: OcrLine, email: str | None) -> float:
    score = line.height
    if email:
        local = _letters(email.split("@")[0])
        hits = sum(1 for w in _words(line.text) if len(_letters(w)) > 1 and _letters(w) in local)
        score += 1000 * hits  # the email naming the person outweighs type size
    return score


def split_name(name: str) -> tuple[str, str]:
    """Split a full name into (first name, last name): the last name is the last word."""
    words = _words(name)
    if len(words) < 2:
        return name.strip(), ""
    return " ".join(words[:-1]), words[-1]


def extract_fields(lines: list[OcrLine], default_region: str | None) -> dict[str, str]:
    """Return the contact fields found in a card's OCR lines; a field not found is left out.

    default_region is the event's country, in which national phone numbers are read.
    """
    texts = [_repair(line.text) for line in lines]
    heights = [line.height for line in lines]
    fields: dict[str, str] = {}
    email = _take_email(texts)
    website = _take_website(texts)
    phone = _take_phone(texts, default_region)
    for key, value in (("email", email), ("website", website), ("phone", phone)):
        if value:
            fields[key] = value
    domain = (email.split("@")[1] if email else None) or (
        website.removeprefix("www.") if website else None
    )
    rest = [
        OcrLine(" ".join(_words(t)), h) for t, h in zip(texts, heights, strict=True) if _words(t)
    ]
    rest = [line for line in rest if not _FAX.search(line.text)]
    companies = [line for line in rest if _is_company(line.text, domain)]
    if companies:
        fields["company"] = max(companies, key=lambda line: line.height).text
    others = [line for line in rest if line.text != fields.get("company")]
    names = [line for line in others if _looks_like_name(line.text) and not _is_title(line.text)]
    if names:
        best = max(names, key=lambda line: _name_score(line, email))
        fields["first_name"], fields["last_name"] = split_name(best.text)
        others = [line for line in others if line is not best]
    titles = [
        line for line in others if _is_title(line.text) and not any(c.isdigit() for c in line.text)
    ]
    if titles:
        fields["job_title"] = titles[0].text
    return {key: value for key, value in fields.items() if value}
