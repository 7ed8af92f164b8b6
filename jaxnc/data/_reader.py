"""From a table (`_table.py`) to columns of numbers in jaxnc's units: headers read as
quantities (`_columns.py`), the user's `columns={header: spec}` applied, cells parsed by what
their column holds, blank cells filled or left unmeasured, ranges checked. Every refusal is one
line naming the source, the row (the header is row 1) and the column; what was tolerated is
collected in notes.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DataError
from ._columns import ColumnError, Quantity, Role, Unit, read_header, read_spec
from ._table import Table, number

__all__ = ["Columns", "read_columns"]

_LIGHT_WORDS = {"1": 1.0, "0": 0.0, "on": 1.0, "off": 0.0, "yes": 1.0, "no": 0.0,
                "true": 1.0, "false": 0.0, "light": 1.0, "dark": 0.0, "1.0": 1.0, "0.0": 0.0}
# (lowest, highest, what) of each field in its own unit.
_RANGES = {
    "time_h": (0.0, math.inf, "a time >= 0"),
    "plqy": (0.0, 1.0, "a PLQY fraction in [0, 1]"),
    "intensity": (0.0, math.inf, "a PL intensity >= 0"),
    "peak_nm": (1e-9, math.inf, "a wavelength > 0"),
    "lifetime_ns": (1e-12, math.inf, "a lifetime > 0"),
    "temperature_k": (1e-9, math.inf, "a temperature above 0 K"),
    "irradiance_mw_cm2": (0.0, math.inf, "an irradiance >= 0"),
    "wavelength_nm": (1e-9, math.inf, "a wavelength > 0"),
}
MEASUREMENTS = ("plqy", "intensity", "lifetime_ns", "peak_nm")


class Columns:
    """The columns of a data table in jaxnc's units.

    **Fields:** `values` (`{field: float array}`: `time_h` (h), `plqy` (fraction), `intensity`
    (counts), `peak_nm`, `lifetime_ns`, `light` (0/1), `temperature_k` (K),
    `irradiance_mw_cm2`, `wavelength_nm`; NaN: not measured), `samples` (each row's sample
    name, "" without a column), `lines` (each row's line in the file), `headers` (`{field:
    the header it came from}`), `notes` (what was tolerated, one sentence each).
    """

    def __init__(self, values, samples, lines, headers, notes):
        self.values = values
        self.samples = samples
        self.lines = lines
        self.headers = headers
        self.notes = notes

    def where(self, field: str, row: int) -> str:
        """`row N, column 'HEADER'` of a field's cell in row index `row`."""
        return f"row {self.lines[row]}, column '{self.headers.get(field, field)}'"


def _resolve(table: Table, overrides: dict) -> tuple[dict, list[str]]:
    """`{column index: (quantity, unit)}` and the ignored headers."""
    lower = {h.lower(): i for i, h in enumerate(table.header)}
    given = {}
    for header, spec in (overrides or {}).items():
        i = lower.get(str(header).strip().lower())
        if i is None:
            raise DataError(f"{table.source}: columns names '{header}', which is no column "
                            f"here; the columns: {', '.join(table.header)}")
        given[i] = (header, spec)
    found, ignored, taken = {}, [], {}
    for i, header in enumerate(table.header):
        try:
            q = read_spec(header, given[i][1]) if i in given else read_header(header)
        except ColumnError as err:
            raise DataError(f"{table.source}, row 1, column '{header}': "
                            f"{str(err).removeprefix(f'column {header!r}: ')}") from None
        if q is None:
            if i not in given:
                ignored.append(header)
            continue
        if q[0].key in taken:
            raise DataError(f"{table.source}, row 1: columns '{taken[q[0].key]}' and "
                            f"'{header}' both hold {q[0].key}; keep one, or say what the "
                            f"other holds (--column \"{header}=ignore\")")
        taken[q[0].key] = header
        found[i] = q
    if "time_h" not in taken:
        raise DataError(f"{table.source}, row 1: no time column (e.g. 'time (h)', 't / min', "
                        f"'time_h'); the columns: {', '.join(table.header)}")
    if not any(m in taken for m in MEASUREMENTS):
        raise DataError(f"{table.source}, row 1: no measurement column (PLQY, PL intensity, "
                        f"lifetime or peak, e.g. 'PLQY (%)', 'PL intensity (a.u.)'); the "
                        f"columns: {', '.join(table.header)}")
    return found, ignored


def _cell_value(q: Quantity, unit: Unit | None, text: str) -> float:
    if q.key == "light":
        v = _LIGHT_WORDS.get(text.lower())
        if v is None:
            raise ValueError(f"{text!r} is not on/off, yes/no, true/false, light/dark or 1/0")
        return v
    try:
        v = number(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{text!r} is not finite")
    return v if unit is None else unit.convert(v)


def _column(table: Table, i: int, q: Quantity, unit: Unit | None, notes: list[str]):
    """One column's values (floats, or the sample names), blank cells filled by its role."""
    header, out, filled, unmeasured = table.header[i], [], 0, 0
    for k, row in enumerate(table.rows):
        text = row[i]
        where = f"{table.source}, row {table.lines[k]}, column '{header}'"
        if not text:
            if q.role is Role.MEASUREMENT:
                out.append(math.nan)
                unmeasured += 1
                continue
            if q.role is Role.TIME or not out:
                raise DataError(f"{where}: blank; every row needs its "
                                f"{'time' if q.role is Role.TIME else q.key}")
            out.append(out[-1])
            filled += 1
            continue
        if q.role is Role.LABEL:
            out.append(text)
            continue
        try:
            out.append(_cell_value(q, unit, text))
        except ValueError as err:
            raise DataError(f"{where}: {err}") from None
    if unmeasured:
        notes.append(f"{unmeasured} blank cell(s) in '{header}' read as not measured")
    if filled:
        notes.append(f"{filled} blank cell(s) in '{header}' read as the row above's value")
    return out


def _check_range(columns: Columns, field: str, units: dict, source: str) -> None:
    lo, hi, what = _RANGES[field]
    unit = units.get(field)
    if field == "plqy" and unit is not None and unit.symbol == "%":
        what = "a PLQY in 0-100 %"
    v = columns.values[field]
    bad = np.flatnonzero(~np.isnan(v) & ((v < lo) | (v > hi)))
    if not bad.size:
        return
    k = int(bad[0])
    shown = v[k] if unit is None else (v[k] - unit.offset) / unit.scale
    hint = ""
    if field == "plqy" and (unit is None or unit.symbol == "fraction") and 1 < v[k] <= 100:
        hint = " (a percentage? name the column 'PLQY (%)' or 'plqy_percent')"
    raise DataError(f"{source}, {columns.where(field, k)}: {shown:g} is not {what}{hint}")


def read_columns(table: Table, overrides: dict | None = None) -> Columns:
    """The table's columns in jaxnc's units (see `Columns`).

    **Raises:** `DataError` with one line naming the source, row and column: a header naming a
    quantity with a unit not understood or missing, two columns for one quantity, no time or
    no measurement column, a blank time or first condition cell, text where a number belongs,
    a value out of its range.
    """
    found, ignored = _resolve(table, overrides)
    notes = []
    if ignored:
        notes.append(f"ignored column(s) {', '.join(repr(h) for h in ignored)} (no quantity "
                     f"jaxnc reads)")
    values, samples, headers, units = {}, [""] * len(table.rows), {}, {}
    for i, (q, unit) in found.items():
        headers[q.key] = table.header[i]
        units[q.key] = unit
        column = _column(table, i, q, unit, notes)
        if q.role is Role.LABEL:
            samples = column
        else:
            values[q.key] = np.asarray(column, dtype=float)
    if any("," in c for row in table.rows for c in row) and table.delimiter != ",":
        notes.append("read decimal commas")
    columns = Columns(values, samples, table.lines, headers, notes)
    for field in values:
        if field in _RANGES:
            _check_range(columns, field, units, table.source)
    return columns
