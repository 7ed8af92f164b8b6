"""PL spectra in a data file, as spectrometers export them: wide (a time column, condition
columns, then one column per wavelength, headed by the wavelength: `500`, `500.5 nm`) or long
(`time`, `wavelength`, `intensity`: one row per wavelength; in such a file `wavelength` is
the spectral axis). A long file is turned into the wide table first; a long file without a
time column is one spectrum, taken at time 0 (a note says so).
"""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np

from ..errors import DataError
from ._columns import ColumnError, is_wavelength_header, read_header
from ._table import Table, number

__all__ = ["spectral_columns", "spectra_of", "wide_from_long", "MIN_WAVELENGTHS"]

MIN_WAVELENGTHS = 3  # fewer numeric headers are no spectrum (a stray column named "1")
_NUMERIC = re.compile(r"\s*(\d+(?:[.,]\d+)?)\s*(?:nm)?\s*")
_RANGE_NM = (200.0, 2000.0)


def spectral_columns(table: Table) -> dict[int, float]:
    """`{column index: wavelength (nm)}` of the headers that are wavelengths (a number,
    optionally with `nm`, within 200-2000 nm); empty where fewer than `MIN_WAVELENGTHS`."""
    found = {}
    for i, header in enumerate(table.header):
        m = _NUMERIC.fullmatch(header.lower())
        if m:
            nm = float(m.group(1).replace(",", "."))
            if _RANGE_NM[0] <= nm <= _RANGE_NM[1]:
                found[i] = nm
    if len(found) < MIN_WAVELENGTHS:
        return {}
    if len(set(found.values())) < len(found):
        raise DataError(f"{table.source}, row {table.header_line}: two spectrum columns have "
                        f"the same wavelength; keep one")
    return found


def spectra_of(table: Table, columns: dict[int, float]) -> tuple[np.ndarray, np.ndarray, int]:
    """The wavelengths (sorted, nm), the spectra `(rows, W)` (NaN: blank cell) and the
    count of blank cells (values may be negative: background-subtracted counts scatter about
    zero off the peak). **Raises:** `DataError` naming the row and column of a cell that is
    no number."""
    order = sorted(columns, key=columns.get)
    values = np.full((len(table.rows), len(order)), np.nan)
    blank = 0
    for k, row in enumerate(table.rows):
        for j, i in enumerate(order):
            text = row[i]
            if not text or text.lower() in ("nan", "na", "n/a"):
                blank += 1
                continue
            try:
                v = number(text, table.decimal)
            except ValueError as err:
                raise DataError(f"{table.source}, row {table.lines[k]}, column "
                                f"'{table.header[i]}': {err}") from None
            if not math.isfinite(v):
                raise DataError(f"{table.source}, row {table.lines[k]}, column "
                                f"'{table.header[i]}': {text!r} is not finite")
            values[k, j] = v
    return np.array([columns[i] for i in order]), values, blank


def _long_columns(table: Table) -> tuple[int, int] | None:
    """(wavelength column, intensity column) of a long spectra table, or None."""
    axis = [i for i, h in enumerate(table.header) if is_wavelength_header(h)]
    if len(axis) != 1:
        return None
    counts = []
    for i, h in enumerate(table.header):
        try:
            q = read_header(h)
        except ColumnError:
            continue
        if q is not None and q[0].key == "intensity":
            counts.append(i)
    return (axis[0], counts[0]) if len(counts) == 1 else None


def wide_from_long(table: Table) -> tuple[Table, str]:
    """A long spectra table (`time`, `wavelength`, `intensity` rows) as a wide one: one row per
    run of rows with the same other cells (time, conditions, sample), one column per
    wavelength; a table that is not long comes back as it is. Returns the table and a note
    (empty for a table left as it was)."""
    found = _long_columns(table)
    if found is None:
        return table, ""
    axis, counts = found
    unit = re.search(r"[\(\[/]\s*([^\)\]]*)", table.header[axis].lower())
    if unit and unit.group(1).strip() not in ("nm", ""):
        raise DataError(f"{table.source}, row {table.header_line}, column "
                        f"'{table.header[axis]}': a spectrum's wavelengths are read in nm, "
                        f"not {unit.group(1).strip()!r}")
    keep = [i for i in range(len(table.header)) if i not in (axis, counts)]
    spectra: list[tuple[tuple, int, dict]] = []
    for k, row in enumerate(table.rows):
        key = tuple(row[i] for i in keep)
        try:
            nm = number(row[axis], table.decimal)
        except ValueError as err:
            raise DataError(f"{table.source}, row {table.lines[k]}, column "
                            f"'{table.header[axis]}': {err}") from None
        if not spectra or spectra[-1][0] != key:
            spectra.append((key, table.lines[k], {}))
        if nm in spectra[-1][2]:
            raise DataError(f"{table.source}, row {table.lines[k]}: wavelength {nm:g} nm "
                            f"repeats within one spectrum; give each time its own rows")
        spectra[-1][2][nm] = row[counts]
    grid = sorted({nm for _, _, cells in spectra for nm in cells})
    header = [table.header[i] for i in keep] + [f"{nm:g} nm" for nm in grid]
    rows = [list(key) + [cells.get(nm, "") for nm in grid] for key, _, cells in spectra]
    note = f"read {len(rows)} spectra of up to {len(grid)} wavelengths (one row per wavelength)"
    if not any(_is_time(h) for h in header):
        header.append("time (h)")
        rows = [r + ["0"] for r in rows]
        note += "; no time column: taken at 0 h"
    return dataclasses.replace(table, header=header, rows=rows,
                               lines=[line for _, line, _ in spectra]), note


def _is_time(header: str) -> bool:
    try:
        q = read_header(header)
    except ColumnError:
        return False
    return q is not None and q[0].key == "time_h"
