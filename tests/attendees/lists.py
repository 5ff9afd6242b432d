"""Helpers: organisers' files made in the test, uploaded and imported through the web pages."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers import Person
from tests.web.webclient import csrf_token, web_login

HEADERS = ["Registration ID", "First Name", "Last Name", "E-mail", "Company", "Job title", "Tel"]
IMPORT_WAIT = 60.0  # seconds an import in the tests may take at most


def people(count: int, start: int = 1001) -> list[list[str]]:
    """Return count attendee rows in the order of HEADERS."""
    return [
        [
            f"REG-{number}",
            f"Ann{number}",
            f"Müller{number}",
            f"ann{number}@example-corp.com",
            f"Corp {number}",
            "CTO",
            f"030 {1234000 + number}",
        ]
        for number in range(start, start + count)
    ]


def csv_bytes(rows: list[list[str]], headers: list[str] = HEADERS, delimiter: str = ",") -> bytes:
    """Return a CSV file as an organiser's tool writes it (UTF-8 with a byte-order mark)."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def xlsx_bytes(rows: list[list[Any]], headers: list[str] = HEADERS) -> bytes:
    """Return an XLSX workbook with headers and rows on its first sheet."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Attendees")
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def web_client(app: Flask, person: Person) -> FlaskClient:
    """Return a client with person logged in on the web pages."""
    client = app.test_client()
    response = web_login(client, person.email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def upload(client: FlaskClient, event_id: int, data: bytes, filename: str) -> TestResponse:
    """Post a file to the event's attendee upload form."""
    token = csrf_token(client, f"/web/events/{event_id}/attendees")
    return client.post(
        f"/web/events/{event_id}/attendees/upload",
        data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def start(client: FlaskClient, import_page: str, mapping: dict[str, str]) -> TestResponse:
    """Post the column mapping of an uploaded file."""
    token = csrf_token(client, import_page)
    return client.post(import_page, data={"csrf_token": token, **mapping})


MAPPING = {
    "badge_id": "Registration ID",
    "first_name": "First Name",
    "last_name": "Last Name",
    "email": "E-mail",
    "company": "Company",
    "job_title": "Job title",
    "phone": "Tel",
}


def wait_done(client: FlaskClient, import_page: str) -> dict[str, Any]:
    """Poll the import's progress (as the page does) until it ends; return the last answer."""
    deadline = time.monotonic() + IMPORT_WAIT
    while time.monotonic() < deadline:
        progress = client.get(import_page + ".json")
        assert progress.status_code == 200, progress.get_data(as_text=True)
        if progress.json["status"] in ("done", "failed"):
            return progress.json
        time.sleep(0.05)
    raise AssertionError(f"the import did not end within {IMPORT_WAIT} s")


def import_list(
    client: FlaskClient,
    event_id: int,
    data: bytes,
    filename: str = "attendees.csv",
    mapping: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Upload, map and run an import to its end; return its final progress."""
    uploaded = upload(client, event_id, data, filename)
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)
    page = uploaded.location
    started = start(client, page, mapping or MAPPING)
    assert started.status_code == 302, started.get_data(as_text=True)
    return wait_done(client, page)
