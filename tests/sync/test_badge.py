"""The badge parser: vCard 2.1, 3.0 and 4.0, MECARD, BIZCARD, plain ids and garbage."""

from __future__ import annotations

import time

import pytest

from sync.badge import MAX_PAYLOAD, detect_format, parse_badge


def contact(fields: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in fields.items() if k not in ("source", "badge_payload")}


def test_vcard_30() -> None:
    raw = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Example;Ann;Marie;Dr.;\r\nFN:Dr. Ann Example\r\n"
        "ORG:Example GmbH;Sales\r\nTITLE:CTO\r\nTEL;TYPE=HOME:+49 30 999\r\n"
        "TEL;TYPE=WORK,VOICE:+49 30 1234567\r\nEMAIL;TYPE=INTERNET,HOME:ann@home.example\r\n"
        "EMAIL;TYPE=INTERNET,PREF:ann@example.com\r\n"
        "ADR;TYPE=WORK:;;Street 1;Berlin;;10115;de\r\nEND:VCARD\r\n"
    )
    fields = parse_badge(raw)
    assert contact(fields) == {
        "first_name": "Ann Marie",
        "last_name": "Example",
        "email": "ann@example.com",
        "phone": "+49 30 1234567",
        "company": "Example GmbH",
        "job_title": "CTO",
        "country": "DE",
    }
    assert fields["source"] == "badge"
    assert fields["badge_payload"] == raw.strip()


def test_vcard_30_escapes_and_folded_lines() -> None:
    raw = (
        "BEGIN:VCARD\nVERSION:3.0\nN:O'Neil;Pat\nORG:Smith\\, Jones \\; Partners;IT\n"
        "TITLE:Head of Very Long Titles and Other \n Things That Fold\n"
        "item1.EMAIL;type=INTERNET:pat@\n\texample.com\nEND:VCARD"
    )
    fields = parse_badge(raw)
    assert fields["company"] == "Smith, Jones ; Partners"
    assert fields["job_title"] == "Head of Very Long Titles and Other Things That Fold"
    assert fields["email"] == "pat@example.com"
    assert (fields["first_name"], fields["last_name"]) == ("Pat", "O'Neil")


def test_vcard_40() -> None:
    raw = (
        "BEGIN:VCARD\nVERSION:4.0\nFN:Grace Brewster Hopper\n"
        'TEL;VALUE=uri;TYPE="voice,work";PREF=1:tel:+1-555-555-0100;ext=5\n'
        "EMAIL;TYPE=work:mailto:grace@navy.example\nORG:Navy\nROLE:Admiral\n"
        'ADR;TYPE=work;LABEL="1 Main St\\nArlington":;;1 Main St;Arlington;VA;22201;US\n'
        "END:VCARD"
    )
    assert contact(parse_badge(raw)) == {
        "first_name": "Grace Brewster",
        "last_name": "Hopper",
        "email": "grace@navy.example",
        "phone": "+1-555-555-0100",
        "company": "Navy",
        "job_title": "Admiral",
        "country": "US",
    }


def test_vcard_21_quoted_printable_with_charset() -> None:
    raw = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\n"
        "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen\r\n"
        "ORG;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Stra=DFenbau =\r\nGmbH\r\n"
        "TITLE;QUOTED-PRINTABLE:Gesch=C3=A4ftsf=C3=BChrer\r\n"
        "TEL;WORK;VOICE:+49 89 1234567\r\nEMAIL;INTERNET:j@strassenbau.example\r\n"
        "PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQSkZJRgABAQ\r\n"
        "END:VCARD"
    )
    assert contact(parse_badge(raw)) == {
        "first_name": "Jürgen",
        "last_name": "Müller",
        "email": "j@strassenbau.example",
        "phone": "+49 89 1234567",
        "company": "Straßenbau GmbH",
        "job_title": "Geschäftsführer",
    }


def test_vcard_as_bytes_in_latin_1() -> None:
    raw = "BEGIN:VCARD\nVERSION:3.0\nN:Müller;Jö\nEND:VCARD".encode("latin-1")
    assert contact(parse_badge(raw)) == {"first_name": "Jö", "last_name": "Müller"}


def test_a_country_that_is_not_a_code_is_left_out() -> None:
    raw = "BEGIN:VCARD\nVERSION:3.0\nFN:Ann\nADR:;;Street;Berlin;;;Germany\nEND:VCARD"
    assert "country" not in parse_badge(raw)


def test_mecard_with_escaped_separators() -> None:
    raw = (
        "MECARD:N:Lovelace,Ada;TEL:+441632960961;TEL:+440000;EMAIL:ada@engine.example;"
        "ORG:Analytical\\; Engines \\: Ltd;TITLE:Programmer\\\\Poet;"
        "ADR:,,12 St James's Sq,London,,SW1Y 4JH,GB;NOTE:Met at \\:booth;;"
    )
    assert contact(parse_badge(raw)) == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@engine.example",
        "phone": "+441632960961",
        "company": "Analytical; Engines : Ltd",
        "job_title": "Programmer\\Poet",
        "country": "GB",
    }


def test_mecard_display_name() -> None:
    fields = parse_badge("MECARD:N:Ada Lovelace;;")
    assert (fields["first_name"], fields["last_name"]) == ("Ada", "Lovelace")


def test_bizcard() -> None:
    raw = "BIZCARD:N:Sean;X:Owen;T:Software Engineer;C:Google;A:London;B:+12125551212;E:s@x.com;;"
    assert contact(parse_badge(raw)) == {
        "first_name": "Sean",
        "last_name": "Owen",
        "email": "s@x.com",
        "phone": "+12125551212",
        "company": "Google",
        "job_title": "Software Engineer",
    }


@pytest.mark.parametrize("raw", ["EXPO26-000123", "A1B2C3", "  4711  ", "REG#2026/0042"])
def test_plain_badge_ids_keep_only_the_payload(raw: str) -> None:
    assert detect_format(raw) == "id"
    assert parse_badge(raw) == {"source": "badge", "badge_payload": raw.strip()}


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "hello world, this is a sentence",
        "https://example.com/badge/1",
        "\x00\x01\x02binary\xff",
        "BEGIN:VCARDS are great",
        "{'json': true}",
    ],
)
def test_garbage_keeps_the_text_and_gives_no_fields(raw: str) -> None:
    fields = parse_badge(raw)
    assert set(fields) <= {"source", "badge_payload"} or detect_format(raw) == "vcard"
    assert fields["source"] == "badge"
    assert "\x00" not in fields["badge_payload"]


def test_a_broken_vcard_gives_what_it_can() -> None:
    fields = parse_badge("BEGIN:VCARD\nno colon here\nEMAIL\nN:;;;\nTEL:\nEND")
    assert contact(fields) == {}


def test_huge_input_is_bounded() -> None:
    huge = "BEGIN:VCARD\nVERSION:3.0\nN:" + "A" * 5_000_000 + ";B\n" + "X" * 5_000_000
    started = time.perf_counter()
    fields = parse_badge(huge)
    assert time.perf_counter() - started < 1.0
    assert len(fields["badge_payload"]) == MAX_PAYLOAD
    assert len(fields.get("last_name", "")) <= 100
    lines = parse_badge("MECARD:" + ";" * 2_000_000 + "N:Late,Ann;;")
    assert lines["badge_payload"].startswith("MECARD:")


def test_long_fields_are_cut_to_the_server_limits() -> None:
    fields = parse_badge(f"BEGIN:VCARD\nVERSION:3.0\nN:{'L' * 300};{'F' * 300}\nEND:VCARD")
    assert len(fields["first_name"]) == 100 and len(fields["last_name"]) == 100
