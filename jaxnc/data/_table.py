"""A data file's text as a table: its header and its rows of cells, each row with its line in
the file. Instrument exports are read as they come: a UTF-8 byte-order mark or Windows-1252
text, `,`, `;` or tab delimiters (sniffed from the header and the first rows), decimal commas
where the delimiter is not a comma, blank lines. A pandas DataFrame becomes the same table.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import re
from pathlib import Path

from ..errors import DataError

__all__ = ["Table", "read_table", "table_from_frame", "number"]

_DELIMITERS = (",", ";", "\t")
_DECIMAL_COMMA = re.compile(r"[-+]?\d*,\d+(?:[eE][-+]?\d+)?")


@dataclasses.dataclass(frozen=True)
class Table:
    """`header` (stripped names), `rows` (lists of stripped cells, as many as the header),
    `lines` (each row's line in the file, the header on line 1), `source` (for messages)."""

    source: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    delimiter: str = ","


def _decode(path: Path) -> str:
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{name}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{name}: a folder, not a CSV file") from None
    if b"\x00" in raw[:4096]:
        raise DataError(f"{name}: not a text CSV file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")  # instrument software on Windows


def _sniff(lines: list[str]) -> str:
    """The delimiter that splits the header and the first rows into one equal number (>= 2)
    of fields; a comma when none does."""
    sample = [ln for ln in lines if ln.strip()][:6]
    for delimiter in ("\t", ";", ","):
        counts = {len(r) for r in csv.reader(sample, delimiter=delimiter)}
        if len(counts) == 1 and counts.pop() >= 2:
            return delimiter
    return ","


def read_table(path) -> Table:
    """The table in a CSV file (header on its first non-blank line).

    **Raises:** `DataError` for a missing or binary file, an empty file, a row with more or
    fewer fields than the header, or a header without data rows.
    """
    path = Path(path)
    name = str(path)
    text = _decode(path)
    lines = text.splitlines()
    delimiter = _sniff(lines)
    numbered = [(k + 1, row) for k, row in enumerate(csv.reader(io.StringIO(text),
                                                                delimiter=delimiter))]
    numbered = [(n, [c.strip() for c in row]) for n, row in numbered
                if any(c.strip() for c in row)]
    if not numbered:
        raise DataError(f"{name}: empty file (expected a header such as time_h,plqy)")
    header_line, header = numbered[0]
    rows, row_lines = [], []
    for n, row in numbered[1:]:
        if len(row) != len(header):
            raise DataError(f"{name}, row {n}: {len(row)} fields, the header has "
                            f"{len(header)} (delimiter {_delimiter_name(delimiter)})")
        rows.append(row)
        row_lines.append(n)
    if not rows:
        raise DataError(f"{name}: no data rows after the header")
    return Table(name, header, rows, row_lines, delimiter)


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
    return "" if text.lower() in ("nan", "nat", "<na>", "none") else text


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
    return Table(source, header, rows, list(range(2, len(rows) + 2)))


def number(text: str) -> float:
    """A cell's number, read with a decimal comma (`1,5`) as instrument exports write it (a
    comma inside a cell: the delimiter is not a comma, or the cell was quoted).

    **Raises:** `ValueError` for text that is no number."""
    if _DECIMAL_COMMA.fullmatch(text) and "." not in text:
        text = text.replace(",", ".")
    return float(text)
