"""XLSX of an event's leads, written by xlsxwriter in constant-memory mode to a temporary file.

constant_memory flushes each row to disk as soon as the next starts, so memory does not grow
with the event; the finished file is then streamed back in chunks and deleted. Text is always
written as a string cell (never parsed as a formula), so no apostrophe is needed here.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from server.exports.rows import Cell

READ_CHUNK = 64 * 1024


def write_xlsx(path: str, header: list[str], rows: Iterable[list[Cell]]) -> None:
    """Write header and rows to a new workbook at path."""
    workbook = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "tmpdir": os.path.dirname(path),
            "strings_to_formulas": False,
            # Excel has no time zones: cells hold the wall time the header's zone names.
            "remove_timezone": True,
        },
    )
    try:
        sheet = workbook.add_worksheet("Leads")
        bold = workbook.add_format({"bold": True})
        when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        money = workbook.add_format({"num_format": "#,##0.00"})
        for column, name in enumerate(header):
            sheet.write_string(0, column, name, bold)
        sheet.freeze_panes(1, 0)
        for number, row in enumerate(rows, start=1):
            for column, value in enumerate(row):
                _write(sheet, number, column, value, when, money)
    finally:
        workbook.close()


def _write(
    sheet: Worksheet, row: int, column: int, value: Cell, when: Format, money: Format
) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, column, value)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, column, value, when)
    elif isinstance(value, Decimal):
        sheet.write_number(row, column, float(value), money)
    elif isinstance(value, int):
        sheet.write_number(row, column, value)
    else:
        sheet.write_string(row, column, value)


def xlsx_chunks(header: list[str], rows: Iterable[list[Cell]]) -> Iterator[bytes]:
    """Write the workbook in a temporary directory, then yield its bytes in chunks."""
    with tempfile.TemporaryDirectory(prefix="leadbridge-export-") as workdir:
        path = os.path.join(workdir, "leads.xlsx")
        write_xlsx(path, header, rows)
        with open(path, "rb") as workbook:
            while chunk := workbook.read(READ_CHUNK):
                yield chunk
