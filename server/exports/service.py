"""Streamed CSV and XLSX responses of an event's leads, for the API and the web pages.

Admins and marketers export every lead of the event; a rep exports only the leads they own
(the same rule as the lead list, server/leads/access.py); booth staff and tablets may not.
The caller checks that the event is visible (404 otherwise) before calling these.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from flask import Response

from server.auth.principal import Principal
from server.errors import fail
from server.events.models import Event
from server.exports.copy_csv import copy_lines
from server.exports.csv_export import csv_chunks, csv_header
from server.exports.rows import csv_query, headers, rows
from server.exports.xlsx_export import xlsx_chunks
from server.extensions import db
from server.users.models import Role

EXPORTERS = (Role.ADMIN, Role.MARKETER, Role.REP)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def require_exporter(principal: Principal) -> None:
    """Refuse (403) callers who may not export leads."""
    if not principal.has_role(*EXPORTERS):
        fail(403, "Your role may not export leads.")


def _download(event: Event, extension: str) -> dict[str, str]:
    # The id, not the event's name, goes in the header: nothing user-typed reaches it.
    return {"Content-Disposition": f'attachment; filename="event-{event.id}-leads.{extension}"'}


def csv_response(event: Event, principal: Principal) -> Response:
    """Return a streamed CSV of the leads of event that principal may read."""
    require_exporter(principal)
    body: Iterator[str | bytes]
    if db.engine.dialect.name == "postgresql":
        # The database writes every line (server/exports/copy_csv.py).
        head = csv_header(headers(event)).encode()
        body = itertools.chain((head,), copy_lines(db.engine, csv_query(event, principal)))
    else:
        body = csv_chunks(headers(event), rows(event, principal))
    return Response(body, content_type="text/csv; charset=utf-8", headers=_download(event, "csv"))


def xlsx_response(event: Event, principal: Principal) -> Response:
    """Return a streamed XLSX workbook of the leads of event that principal may read."""
    require_exporter(principal)
    body = xlsx_chunks(headers(event), rows(event, principal))
    return Response(body, mimetype=XLSX_TYPE, headers=_download(event, "xlsx"))
