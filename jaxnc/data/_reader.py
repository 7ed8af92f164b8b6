"""From a table (`_table.py`) to columns of numbers in jaxnc's units: headers read as
quantities (`_columns.py`), the user's `columns={header: spec}` applied, cells parsed by what
their column holds, blank cells filled or left unmeasured, ranges checked. Every refusal is one
line naming the source, the row (its line in the file) and the column; what was tolerated is
collected in notes.
"""

from __future__ import annotations

import dataclasses
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
    "excitation_nm": (1e-9, math.inf, "a wavelength > 0"),
}
MEASUREMENTS = ("plqy", "intensity", "lifetime_ns", "peak_nm")


@dataclasses.dataclass
class Columns:
    """The columns of a data table in jaxnc's units.

    **Fields:** `values` (`{field: float array}`: `time_h` (h), `plqy` (fraction), `intensity`
    (counts), `peak_nm`, `lifetime_ns`, `light` (0/1), `temperature_k` (K),
    `irradiance_mw_cm2`, `excitation_nm`; NaN: not measured), `samples` (each row's sample
    name, "" without a column), `lines` (each row's line in the file), `headers` (`{field:
    the header it came from}`), `notes` (what was tolerated, one sentence each).
    """

    values: dict
    samples: list
    lines: list
    headers: dict
    notes: list

    def where(self, field: str, row: int) -> str:
        """`row N, column 'HEADER'` of a field's cell in row index `row`."""
        return f"row {self.lines[row]}, column '{self.headers.get(field, field)}'"


def _resolve(table: Table, overrides: dict, spectra: bool) -> tuple[dict, list[str]]:
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
            raise DataError(f"{table.source}, row {table.header_line}, column '{header}': "
                            f"{str(err).removeprefix(f'column {header!r}: ')}") from None
        if q is None:
            if i not in given:
                ignored.append(header)
            continue
        if q[0].key in taken:
            raise DataError(f"{table.source}, row {table.header_line}: columns "
                            f"'{taken[q[0].key]}' and "
                            f"'{header}' both hold {q[0].key}; keep one, or say what the "
                            f"other holds (--column \"{header}=ignore\")")
        taken[q[0].key] = header
        found[i] = q
    if "time_h" not in taken:
        raise DataError(f"{table.source}, row {table.header_line}: no time column (e.g. "
                        f"'time (h)', 't / min', 'time_h'); the columns: "
                        f"{', '.join(table.header)}")
    if not spectra and not any(m in taken for m in MEASUREMENTS):
        raise DataError(f"{table.source}, row {table.header_line}: no measurement column "
                        f"(PLQY, PL intensity, lifetime, peak or spectra, e.g. 'PLQY (%)', "
                        f"'PL intensity (a.u.)', one column per wavelength headed '500 nm'); "
                        f"the columns: {', '.join(table.header)}")
    return found, ignored


def _cell_value(q: Quantity, unit: Unit | None, text: str, decimal: str) -> float:
    if q.key == "light":
        v = _LIGHT_WORDS.get(text.lower())
        if v is None:
            raise ValueError(f"{text!r} is not on/off, yes/no, true/false, light/dark or 1/0")
        return v
    v = number(text, decimal)  # raises ValueError naming the text
    if not math.isfinite(v):
        raise ValueError(f"{text!r} is not finite")
    return v if unit is None else unit.convert(v)


_MISSING = ("nan", "na", "n/a")  # what spreadsheets and pandas write for a missing value


def _column(table: Table, i: int, q: Quantity, unit: Unit | None, samples: list[str],
            notes: list[str]):
    """One column's values (floats, or the sample names), blank cells filled by its role:
    a blank condition or sample cell takes the row above's value within one sample."""
    header, out, filled, unmeasured = table.header[i], [], 0, 0
    for k, row in enumerate(table.rows):
        text = row[i]
        where = f"{table.source}, row {table.lines[k]}, column '{header}'"
        if q.role is Role.MEASUREMENT and text.lower() in _MISSING:
            text = ""
        if not text:
            if q.role is Role.MEASUREMENT:
                out.append(math.nan)
                unmeasured += 1
                continue
            first = not out or (q.role is not Role.LABEL and samples[k] != samples[k - 1])
            if q.role is Role.TIME or first:
                what = "time" if q.role is Role.TIME else q.key
                of = f" of sample {samples[k]!r}" if samples[k] and out else ""
                raise DataError(f"{where}: blank; every row needs its {what} (a blank is the "
                                f"row above's value only after the first row{of})"
                                if q.role is not Role.TIME else
                                f"{where}: blank; every row needs its {what}")
            out.append(out[-1])
            filled += 1
            continue
        if q.role is Role.LABEL:
            out.append(text)
            continue
        try:
            out.append(_cell_value(q, unit, text, table.decimal))
        except ValueError as err:
            raise DataError(f"{where}: {err}") from None
    if unmeasured:
        notes.append(f"{unmeasured} blank cell(s) in '{header}' read as not measured")
    if filled:
        notes.append(f"{filled} blank cell(s) in '{header}' read as the row above's value")
    return out


def _plausibility(columns: Columns, units: dict) -> list[str]:
    """Notes on values that fit their range but look like another unit."""
    notes = []
    temps = columns.values.get("temperature_k")
    if temps is not None and np.nanmax(temps) < 150:
        notes.append(f"'{columns.headers['temperature_k']}': temperatures up to "
                     f"{np.nanmax(temps):g} K; degrees Celsius? name the column 'T (°C)'")
    plqy, unit = columns.values.get("plqy"), units.get("plqy")
    if plqy is not None and unit is not None and unit.symbol == "%" and \
            np.isfinite(plqy).any() and np.nanmax(plqy) <= 0.01:
        notes.append(f"'{columns.headers['plqy']}': every PLQY is at most 1 %; fractions? "
                     f"name the column 'plqy'")
    return notes


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


def read_columns(table: Table, overrides: dict | None = None, spectra: bool = False) -> Columns:
    """The table's columns in jaxnc's units (see `Columns`); `spectra`: the file also holds
    spectra (then no other measurement column is needed).

    **Raises:** `DataError` with one line naming the source, row and column: a header naming a
    quantity with a unit not understood or missing, two columns for one quantity, no time or
    no measurement column, a blank time or first condition cell (of a sample), text where a
    number belongs, a value out of its range.
    """
    found, ignored = _resolve(table, overrides, spectra)
    notes = []
    if ignored:
        notes.append(f"ignored column(s) {', '.join(repr(h) for h in ignored)} (no quantity "
                     f"jaxnc reads)")
    if table.padded:
        notes.append(f"{table.padded} row(s) shorter than the header: their missing cells "
                     f"read as blank")
    values, samples, headers, units = {}, [""] * len(table.rows), {}, {}
    order = sorted(found, key=lambda i: found[i][0].role is not Role.LABEL)  # samples first
    for i in order:
        q, unit = found[i]
        headers[q.key] = table.header[i]
        units[q.key] = unit
        column = _column(table, i, q, unit, samples, notes)
        if q.role is Role.LABEL:
            samples = column
        else:
            values[q.key] = np.asarray(column, dtype=float)
    if table.decimal == ",":
        notes.append("read decimal commas")
    columns = Columns(values, samples, table.lines, headers, notes)
    for field in values:
        if field in _RANGES:
            _check_range(columns, field, units, table.source)
    notes += _plausibility(columns, units)
    return columns
