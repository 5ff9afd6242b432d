"""Read the organiser's CSV or XLSX export row by row, without loading it whole.

CSV: UTF-8 (with or without a byte-order mark), falling back to Windows-1252, with the
delimiter sniffed from the first lines (comma, semicolon or tab). XLSX: the first
sheet, through openpyxl's read-only mode, which streams rows from the zip member.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FORMATS = ("csv", "xlsx")
MAX_COLUMNS = 200
MAX_CELL = 2000
# Zip files start with these bytes; an XLSX is one.
_ZIP_MAGIC = b"PK\x03\x04"


class TableError(ValueError):
    """A file that cannot be read as a table; the message is safe to show."""


def detect_format(path: Path, filename: str) -> str:
    """Return csv or xlsx for an upload, from its first bytes and its name."""
    with path.open("rb") as file:
        head = file.read(4)
    if head == _ZIP_MAGIC:
        if not filename.lower().endswith((".xlsx", ".xlsm")):
            raise TableError("This looks like a zip file; upload the list as CSV or XLSX.")
        return "xlsx"
    if filename.lower().endswith((".xls", ".xlsx", ".ods", ".numbers")):
        raise TableError("Save the sheet as XLSX (Excel 2007 or later) or CSV and upload it again.")
    return "csv"


def _encoding(path: Path) -> str:
    with path.open("rb") as file:
        sample = file.read(1 << 16)
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        # A cut multi-byte character at the sample's end is still UTF-8.
        if error.start < len(sample) - 4:
            return "cp1252"
    return "utf-8-sig"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an id typed as a number comes back from XLSX as 12345.0
    return str(value).strip()[:MAX_CELL]


@contextmanager
def open_rows(path: Path, file_format: str) -> Iterator[tuple[list[str], Iterator[list[str]]]]:
    """Yield (headers, rows): the first row's names and an iterator over the rest.

    Raises TableError for a file without a header row or with unusable headers.
    """
    if file_format == "xlsx":
        with _xlsx_rows(path) as rows:
            yield _headers(rows), rows
    else:
        with _csv_rows(path) as rows:
            yield _headers(rows), rows


def _headers(rows: Iterator[list[str]]) -> list[str]:
    for row in rows:
        if any(row):
            headers = row[:MAX_COLUMNS]
            while headers and not headers[-1]:
                headers.pop()
            named = [name for name in headers if name]
            if len(set(named)) != len(named):
                raise TableError("Two columns have the same heading; give each its own name.")
            return headers
    raise TableError("The file is empty: the first row must name the columns.")


@contextmanager
def _csv_rows(path: Path) -> Iterator[Iterator[list[str]]]:
    encoding = _encoding(path)
    with path.open("r", encoding=encoding, newline="") as file:
        sample = file.read(1 << 14)
        file.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(file, dialect)

        def rows() -> Iterator[list[str]]:
            try:
                for row in reader:
                    yield [cell.strip()[:MAX_CELL] for cell in row[:MAX_COLUMNS]]
            except csv.Error as error:
                raise TableError(f"Line {reader.line_num} cannot be read as CSV.") from error

        yield rows()


@contextmanager
def _xlsx_rows(path: Path) -> Iterator[Iterator[list[str]]]:
    import zipfile

    from openpyxl import load_workbook

    # A file object: uploads are stored without the name's extension openpyxl checks.
    handle = path.open("rb")
    try:
        book = load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        handle.close()
        raise TableError("This XLSX file cannot be opened; save it again and retry.") from error
    try:
        sheet = book.worksheets[0]

        def rows() -> Iterator[list[str]]:
            for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
                yield [_cell(value) for value in row]

        yield rows()
    finally:
        book.close()
        handle.close()


def count_rows(path: Path, file_format: str) -> int | None:
    """Return about how many data rows the file has (for progress), or None if unknown."""
    if file_format == "xlsx":
        from openpyxl import load_workbook

        with path.open("rb") as handle:
            book = load_workbook(handle, read_only=True)
            try:
                rows = book.worksheets[0].max_row
            finally:
                book.close()
        return max(0, rows - 1) if rows else None
    lines = 0
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            lines += block.count(b"\n")
    return max(0, lines - 1)


def preview(path: Path, file_format: str, count: int = 5) -> tuple[list[str], list[list[str]]]:
    """Return the headers and the first count rows, for the mapping form."""
    with open_rows(path, file_format) as (headers, rows):
        first = []
        for row in rows:
            if any(row):
                first.append(row)
            if len(first) >= count:
                break
    return headers, first


__all__ = ["FORMATS", "TableError", "count_rows", "detect_format", "open_rows", "preview"]
