"""A data file's text as a table: its header and its rows of cells, each row with its line in
the file. Instrument exports are read as they come: UTF-8 (with or without a byte-order mark),
UTF-16 or Windows-1252 text, any line ends, `,`, `;` or tab delimiters (whichever splits the
header most; a trailing delimiter ignored), decimal commas where the delimiter is not a comma,
blank lines. A pandas DataFrame becomes the same table.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import re
from pathlib import Path

from ..errors import DataError

__all__ = ["Table", "read_table", "table_from_frame", "number", "file_headers"]

_DECIMAL_COMMA = re.compile(r"[-+]?\d*,\d+(?:[eE][-+]?\d+)?")


@dataclasses.dataclass(frozen=True)
class Table:
    """`header` (names, whitespace collapsed), `rows` (lists of stripped cells, as many as the
    header), `lines` (each row's line in the file), `header_line`, `source` (for messages),
    `decimal` (the file's decimal separator: `","` where the delimiter is not a comma and
    numbers are written with decimal commas), `padded` (rows short of the header whose
    missing trailing cells were read as blank)."""

    source: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    header_line: int = 1
    decimal: str = "."
    padded: int = 0


def _decode(path: Path) -> str:
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{name}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{name}: a folder, not a CSV file") from None
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 ("Unicode text" exports)
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise DataError(f"{name}: not a text CSV file") from None
    if b"\x00" in raw[:4096]:
        raise DataError(f"{name}: not a text CSV file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")  # instrument software on Windows


def _trim(row: list[str]) -> list[str]:
    """A row's cells stripped, trailing empty cells (a trailing delimiter) dropped."""
    cells = list(row)
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _parse(text: str, delimiter: str) -> list[list[str]]:
    """Rows of stripped cells. **Raises:** `ValueError` for text the csv module refuses."""
    try:
        return [[c.strip() for c in r] for r in csv.reader(io.StringIO(text),
                                                           delimiter=delimiter)]
    except csv.Error as err:
        raise ValueError(str(err)) from None


def _sniff(text: str) -> str:
    """The delimiter that splits the header (its first non-blank line) into the most fields,
    at least two, trailing delimiters aside; a comma when none does."""
    header = next((ln for ln in text.split("\n") if ln.strip()), "")
    best, count = ",", 1
    for delimiter in ("\t", ";", ","):
        try:
            n = len(_trim(_parse(header, delimiter)[0])) if header else 0
        except (ValueError, IndexError):
            continue
        if n > count:
            best, count = delimiter, n
    return best


def _decimal(rows: list[list[str]], delimiter: str) -> str:
    """`","` where the delimiter is not a comma and a number is written with a decimal comma."""
    if delimiter == ",":
        return "."
    return "," if any(_DECIMAL_COMMA.fullmatch(c) for r in rows for c in r) else "."


def read_table(path) -> Table:
    """The table in a CSV file (header on its first non-blank line).

    **Raises:** `DataError` for a missing or binary file, an empty file, a row with more
    fields than the header, or a header without data rows.
    """
    path = Path(path)
    name = str(path)
    text = _decode(path).replace("\r\n", "\n").replace("\r", "\n")  # old Mac files too
    delimiter = _sniff(text)
    try:
        parsed = _parse(text, delimiter)
    except ValueError as err:
        raise DataError(f"{name}: not readable as CSV ({err})") from None
    numbered = [(k + 1, row) for k, row in enumerate(parsed) if any(row)]
    if not numbered:
        raise DataError(f"{name}: empty file (expected a header such as time_h,plqy)")
    header_line, header = numbered[0]
    header = [" ".join(h.split()) for h in _trim(header)]  # a header cell over two lines
    rows, row_lines, padded = [], [], 0
    for n, row in numbered[1:]:
        if len(_trim(row)) > len(header):
            raise DataError(f"{name}, row {n}: {len(_trim(row))} fields, the header has "
                            f"{len(header)} (delimiter {_delimiter_name(delimiter)})")
        row = row[:len(header)]  # beyond the header: empty cells of trailing delimiters
        if len(row) < len(header):
            padded += 1
            row = row + [""] * (len(header) - len(row))
        rows.append(row)
        row_lines.append(n)
    if not rows:
        raise DataError(f"{name}: no data rows after the header")
    return Table(name, header, rows, row_lines, header_line, _decimal(rows, delimiter), padded)


def file_headers(path) -> list[str]:
    """The column names of a data file as the reader sees them (delimiter sniffed, whitespace
    collapsed). **Raises:** `DataError` for a missing, binary or empty file."""
    return read_table(path).header


def _delimiter_name(d: str) -> str:
    return {",": "','", ";": "';'", "\t": "tab"}[d]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and math.isnan(value):
        return ""
    text = str(value).strip()
    return "" if text.lower() in ("nat", "<na>", "none") else text


def table_from_frame(frame, source: str = "DataFrame") -> Table:
    """The table of a pandas DataFrame (or any object with `columns` and `itertuples`):
    column names as the header, missing values as blank cells, rows numbered as in a CSV
    written from it (header on line 1)."""
    if not (hasattr(frame, "columns") and hasattr(frame, "itertuples")):
        raise DataError(f"from_frame takes a pandas DataFrame, got {type(frame).__name__}")
    header = [str(c).strip() for c in frame.columns]
    rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    if not header:
        raise DataError(f"{source}: no columns")
    if not rows:
        raise DataError(f"{source}: no data rows")
    return Table(source, [" ".join(h.split()) for h in header], rows,
                 list(range(2, len(rows) + 2)))


def number(text: str, decimal: str = ".") -> float:
    """A cell's number, with the file's decimal separator (`decimal`: `","` for files written
    with decimal commas). A comma in a number of a decimal-point file, or a point in a
    decimal-comma file, is refused: it may be a thousands separator.

    **Raises:** `ValueError` for text that is no number."""
    written = text
    if decimal == ",":
        if "." in text:
            raise ValueError(f"{text!r} has a decimal point in a file written with decimal "
                             f"commas (a thousands separator?); write it as the others")
        text = text.replace(",", ".")
    elif "," in text:
        raise ValueError(f"{text!r} has a comma (a decimal comma or a thousands separator?); "
                         f"write the number with a decimal point")
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{written!r} is not a number") from None
