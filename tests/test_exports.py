"""Lead exports: CSV and XLSX read back, who may export what, formula guard, streaming."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Text, literal, select, update

from server.auth.principal import Principal
from server.events.models import Event
from server.exports import rows as export_rows
from server.exports.copy_csv import copy_lines
from server.exports.csv_export import CHUNK_ROWS, csv_chunks, csv_header, defuse
from server.exports.formulas import defused_sql
from server.extensions import db
from server.leads.models import Lead
from server.users.models import Role, User
from tests.helpers import ApiHelper, Booth, skip_unless_postgres

CAPTURED = datetime(2026, 11, 23, 8, 10, tzinfo=UTC)  # 09:10 in Berlin


def _url(booth: Booth, kind: str) -> str:
    return f"/api/v1/events/{booth.event['id']}/leads.{kind}"


def _csv(client: FlaskClient, url: str, headers: dict[str, str]) -> list[dict[str, str]]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_json(silent=True)
    assert response.content_type == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def _xlsx(client: FlaskClient, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_json(silent=True)
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    header, *body = list(sheet.iter_rows())
    names = [cell.value for cell in header]
    return [{name: cell for name, cell in zip(names, row, strict=True)} for row in body]


@pytest.fixture
def leads(api: ApiHelper, booth: Booth, client: FlaskClient) -> dict[str, Any]:
    """A won lead owned by the rep, with formula-like text, and a plain lead nobody owns."""
    team = f"/api/v1/events/{booth.event['id']}/members/{booth.rep.id}"
    assert client.delete(team, headers=booth.marketer.headers).status_code == 204
    won = api.capture(
        booth.tablet,
        booth.staff,
        captured_at=CAPTURED.isoformat(),
        company='=HYPERLINK("http://evil.example")',
        last_name="@SUM(A1)",
        notes="+49 wants a call",
        answers={"budget": True, "timeframe": "Now", "topics": ["A", "C"], "seats": 12},
        products=["scanner", "crm"],
        rating="hot",
    )
    plain = api.capture(
        booth.tablet, booth.staff, captured_at=CAPTURED.isoformat(), answers={"budget": False}
    )
    api.add_member(booth.marketer, booth.event["id"], booth.rep.id)
    url = f"/api/v1/leads/{won['id']}"
    for body in (
        {"owner_id": booth.rep.id},
        {"status": "acknowledged"},
        {"status": "contacted"},
        {"status": "won", "value": "5000"},
    ):
        assert client.patch(url, json=body, headers=booth.marketer.headers).status_code == 200
    return {"won": won, "plain": plain}


def test_csv_has_each_lead_with_its_marketing_context_and_outcome(
    booth: Booth, client: FlaskClient, leads: dict[str, Any]
):
    rows = {row["Lead id"]: row for row in _csv(client, _url(booth, "csv"), booth.marketer.headers)}
    assert set(rows) == {leads["won"]["id"], leads["plain"]["id"]}
    won = rows[leads["won"]["id"]]
    assert won["Event"] == "Test Expo" and won["Booth"] == "B1" and won["Campaign"] == "TEST-26"
    assert won["Captured by"] == "staff 3"
    assert won["Captured at (Europe/Berlin)"] == "2026-11-23 09:10:00"
    assert won["Tablet"] == "Tablet"
    assert won["First name"] == "Ann" and won["Email"].startswith("ann.example.")
    assert won["Q: Budget?"] == "yes"
    assert won["Q: When?"] == "Now"
    assert won["Q: Topics"] == "A; C"
    assert won["Q: Seats"] == "12"
    assert won["Q: Pain"] == ""
    assert won["Products"] == "Scanner; CRM"
    assert won["Booth rating"] == "hot"
    assert won["Consent given"] == "yes" and won["Consent version"] == "1"
    assert won["Owner"] == "rep 4"
    assert won["Status"] == "won" and won["Deal value"] == "5000.00"
    assert won["Acknowledged at (Europe/Berlin)"] and won["First contact at (Europe/Berlin)"]
    assert won["Alerted at (Europe/Berlin)"] == ""
    plain = rows[leads["plain"]["id"]]
    assert plain["Q: Budget?"] == "no" and plain["Owner"] == "" and plain["Status"] == "new"


def test_csv_cells_that_look_like_formulas_get_an_apostrophe(
    booth: Booth, client: FlaskClient, leads: dict[str, Any]
):
    rows = {row["Lead id"]: row for row in _csv(client, _url(booth, "csv"), booth.marketer.headers)}
    won = rows[leads["won"]["id"]]
    assert won["Company"] == '\'=HYPERLINK("http://evil.example")'
    assert won["Last name"] == "'@SUM(A1)"
    assert won["Notes"] == "'+49 wants a call"
    assert won["First name"] == "Ann"  # ordinary text is left alone


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_defused(start: str):
    assert defuse(f"{start}1+2") == f"'{start}1+2"
    assert defuse(f"a{start}1") == f"a{start}1"


@pytest.mark.parametrize("phone", ["+4930123456", "+49 30 1234567", "+1 415 555 0100", "+ 44 20"])
def test_phone_numbers_are_numbers_not_formulas(phone: str):
    assert defuse(phone) == phone


@pytest.mark.parametrize(
    "text", ["+", "+ ", "+1+2", "+49-30", "+49\t30", "+49\r", "+1e5", "+\uff11\uff12", "+1 (2)"]
)
def test_a_plus_with_anything_but_digits_and_spaces_is_defused(text: str):
    assert defuse(text) == "'" + text


@pytest.mark.parametrize("typed", ["+49 30 1234567", "030 1234567", "+1 (415) 555-0100"])
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_crm_import_reads_the_phone_back_exactly(
    api: ApiHelper, booth: Booth, client: FlaskClient, kind: str, typed: str
):
    lead = api.capture(booth.tablet, booth.staff, phone=typed)
    assert lead["phone"].startswith("+")  # stored as E.164, a formula start
    if kind == "csv":
        # What a CRM's CSV import does: read each row as text, take the Phone column.
        rows = _csv(client, _url(booth, "csv"), booth.marketer.headers)
        phones = {row["Lead id"]: row["Phone"] for row in rows}
    else:
        rows = _xlsx(client, _url(booth, "xlsx"), booth.marketer.headers)
        assert all(row["Phone"].data_type == "s" for row in rows if row["Phone"].value)
        phones = {row["Lead id"].value: row["Phone"].value for row in rows}
    assert phones[lead["id"]] == lead["phone"]


def test_xlsx_holds_the_same_leads_with_text_never_a_formula(
    booth: Booth, client: FlaskClient, leads: dict[str, Any]
):
    rows = _xlsx(client, _url(booth, "xlsx"), booth.marketer.headers)
    by_id = {row["Lead id"].value: row for row in rows}
    assert set(by_id) == {leads["won"]["id"], leads["plain"]["id"]}
    won = by_id[leads["won"]["id"]]
    company = won["Company"]
    # A string cell: spreadsheet programs show it, they do not run it.
    assert company.data_type == "s" and company.value == '=HYPERLINK("http://evil.example")'
    assert won["Captured at (Europe/Berlin)"].value == datetime(2026, 11, 23, 9, 10)
    assert won["Q: Topics"].value == "A; C"
    assert won["Products"].value == "Scanner; CRM"
    assert won["Deal value"].value == 5000
    assert won["Consent given"].value is True
    assert won["Owner"].value == "rep 4" and won["Status"].value == "won"


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_rep_exports_only_the_leads_they_own(
    booth: Booth, client: FlaskClient, leads: dict[str, Any], kind: str
):
    if kind == "csv":
        rows = _csv(client, _url(booth, kind), booth.rep.headers)
        ids = [row["Lead id"] for row in rows]
    else:
        ids = [row["Lead id"].value for row in _xlsx(client, _url(booth, kind), booth.rep.headers)]
    assert ids == [leads["won"]["id"]]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_staff_tablets_and_outsiders_may_not_export(
    api: ApiHelper, booth: Booth, client: FlaskClient, leads: dict[str, Any], kind: str
):
    url = _url(booth, kind)
    for headers in (booth.staff.headers, booth.tablet.headers):
        response = client.get(url, headers=headers)
        assert response.status_code == 403
        assert leads["won"]["id"] not in response.get_data(as_text=True)
    outsider = api.person(Role.REP)  # not on the event's team
    assert client.get(url, headers=outsider.headers).status_code == 404
    assert client.get(url).status_code == 401
    missing = f"/api/v1/events/999999/leads.{kind}"
    assert client.get(missing, headers=booth.marketer.headers).status_code == 404


def test_an_event_without_leads_exports_just_the_header(booth: Booth, client: FlaskClient):
    response = client.get(_url(booth, "csv"), headers=booth.marketer.headers)
    lines = response.data.decode("utf-8-sig").splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lead id,Event,Booth,Campaign")
    assert _xlsx(client, _url(booth, "xlsx"), booth.marketer.headers) == []


def test_the_csv_streams_its_first_chunk_before_reading_every_row():
    pulled = 0

    def rows() -> Iterator[list[Any]]:
        nonlocal pulled
        for number in range(CHUNK_ROWS * 4):
            pulled += 1
            yield [number, "x"]

    chunks = csv_chunks(["n", "x"], rows())
    first = next(chunks)
    assert pulled == CHUNK_ROWS  # one chunk's worth read, the rest not yet
    assert first.startswith("\ufeffn,x\r\n0,x\r\n") and first.count("\r\n") == CHUNK_ROWS + 1
    rest = "".join(chunks)
    assert pulled == CHUNK_ROWS * 4 and rest.endswith(f"{CHUNK_ROWS * 4 - 1},x\r\n")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_endpoints_answer_with_a_streamed_body(
    booth: Booth, client: FlaskClient, leads: dict[str, Any], kind: str
):
    response = client.get(_url(booth, kind), headers=booth.marketer.headers, buffered=False)
    assert response.status_code == 200
    assert response.is_streamed  # a generator, not a body built in memory
    body = b"".join(response.response)
    response.close()
    if kind == "csv":
        assert leads["won"]["id"].encode() in body
    else:
        assert body.startswith(b"PK")  # a zip archive, as every XLSX is


# Cells a spreadsheet or a CSV reader trips on: formulas, quotes, line breaks, unicode.
NASTY = [
    '=HYPERLINK("http://evil.example")',
    "=",
    "+",
    "-1+2",
    "@SUM(A1)",
    "\tTab first",
    "\rCR first",
    "+49 30 1234567",
    "+49\n",
    "+\uff11\uff12",
    'He said "hi", twice',
    "line one\nline two",
    "crlf\r\nin the middle",
    "Zoë Ünal 北京 🎉",
    "a,b;c",
    " leading space",
    "\\.",
    "",
]


def _both_paths(app: Flask, event_id: int, user_id: int) -> tuple[bytes, bytes]:
    """Return the CSV written by Python and the one written by PostgreSQL's COPY."""
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        principal = Principal(user=db.session.get(User, user_id))
        header = export_rows.headers(event)
        by_python = "".join(csv_chunks(header, export_rows.rows(event, principal))).encode()
        query = export_rows.csv_query(event, principal)
        by_database = csv_header(header).encode() + b"".join(copy_lines(db.engine, query))
    return by_python, by_database


def test_postgresql_defuses_exactly_as_python(app: Flask, database_url: str):
    skip_unless_postgres(database_url, "the database writes the CSV only on PostgreSQL")
    texts = [*NASTY, "+4930123456", "+ 44 20", "+1e5", "+49-30", "a=1", "-", "@"]
    with app.app_context():
        written = db.session.execute(
            select(*(defused_sql(literal(text, Text)) for text in texts))
        ).one()
    assert list(written) == [defuse(text) for text in texts]


def test_the_csv_written_by_postgresql_is_byte_for_byte_the_python_one(
    app: Flask, database_url: str, api: ApiHelper, booth: Booth, leads: dict[str, Any]
):
    skip_unless_postgres(database_url, "the database writes the CSV only on PostgreSQL")
    # A summer time (the other UTC offset) and a time with a fraction of a second.
    api.capture(booth.tablet, booth.staff, captured_at="2026-07-01T22:59:59.999999+00:00")
    api.capture(
        booth.tablet,
        booth.staff,
        captured_at="2026-03-29T00:30:00.5+00:00",  # the hour Berlin's clocks jump
        consent={"given": False},
        follow_up=False,
        phone=None,
        email=None,
    )
    for number, text in enumerate(NASTY):
        api.capture(
            booth.tablet,
            booth.staff,
            first_name=text or None,
            company=text,
            notes=text,
            job_title=NASTY[-1 - number],
            answers={"budget": number % 2 == 0, "pain": text or None},
            phone="+49 30 1234567" if number % 2 else "+1 (415) 555-0100",
        )
    # Values the API would not take today but older data or other events may hold.
    odd = [
        {"seats": 12.5, "topics": ["A", "", "C"], "pain": "0"},
        {"seats": 0.00001, "topics": [], "timeframe": "=Later"},
        {"seats": 1e15, "topics": [""]},
        {"seats": -3, "pain": "-3"},
        {"seats": 12.0, "budget": False},
        {"seats": -0.0},
    ]
    reasons = [
        [{"reason": "=Budget", "points": -10}, {"points": 0}],
        [{"reason": "", "points": 2.7}, {"reason": 'Student, "keen"', "points": -2.7}],
        [],
    ]
    leads_table = Lead.__table__
    with app.app_context():
        ids = db.session.scalars(
            select(Lead.id).where(Lead.event_id == booth.event["id"]).order_by(Lead.captured_at)
        ).all()
        for number, lead_id in enumerate(ids[: len(odd)]):
            db.session.execute(
                update(leads_table)
                .where(leads_table.c.id == lead_id)
                .values(
                    answers=odd[number],
                    products=[["crm", "gone-product", "scanner"], [], ["=x"]][number % 3],
                    score_reasons=reasons[number % 3],
                    status_reason=NASTY[number],
                    deal_value=Decimal("-5.50") if number == 1 else None,
                )
            )
        db.session.execute(
            update(Event.__table__)
            .where(Event.__table__.c.id == booth.event["id"])
            .values(name='=Expo, "2026"', booth="", campaign_code="+49 30")
        )
        db.session.commit()
    by_python, by_database = _both_paths(app, booth.event["id"], booth.marketer.id)
    assert by_database == by_python
    # And what a reader makes of it: every lead, the formulas defused, the phones kept.
    rows = list(csv.DictReader(io.StringIO(by_database.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(ids) >= 4 + len(NASTY)
    assert {row["Event"] for row in rows} == {'\'=Expo, "2026"'}
    companies = {row["Company"] for row in rows}
    assert '\'=HYPERLINK("http://evil.example")' in companies and "line one\nline two" in companies
    assert {"+49301234567", "+14155550100"} <= {row["Phone"] for row in rows}  # E.164, kept
    assert {"12.5", "0.00001", "1000000000000000", "'-3", "12", "0"} <= {
        row["Q: Seats"] for row in rows
    }


def test_the_csv_endpoint_on_postgresql_streams_the_lines_the_database_wrote(
    database_url: str, booth: Booth, client: FlaskClient, leads: dict[str, Any]
):
    skip_unless_postgres(database_url, "the database writes the CSV only on PostgreSQL")
    response = client.get(_url(booth, "csv"), headers=booth.marketer.headers, buffered=False)
    assert response.status_code == 200 and response.is_streamed
    body = b"".join(response.response)
    response.close()
    assert body.startswith("\ufeffLead id,".encode())
    assert body.count(b"\r\n") == 3 and body.endswith(b"\r\n")  # the header and two leads
    assert b"'=HYPERLINK" in body
