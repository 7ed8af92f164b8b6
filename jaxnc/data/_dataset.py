"""Measured PLQY data: CSV files of PLQY against time, validated before anything is used.

Format (DESIGN §3): a header row; `time_h` and one of `plqy` (fraction 0–1) or
`plqy_percent` (0–100) required; optional `light` (0/1), `temperature_k`, `sample`,
`lifetime_ns` (ns; a blank cell: not measured at that time). Rows of one sample must have
non-negative times in order; two rows may share a time only where `light` or `temperature_k`
changes (a measurement at the moment of a switch: the row belongs to the step its conditions
name). A file without a `sample` column may hold several curves one after another: a new
curve starts where time goes back (or, with `split="temperature"`, one curve per
`temperature_k`).
"""

from __future__ import annotations

import csv
import dataclasses
import math
from pathlib import Path

import numpy as np

from ..errors import DataError

__all__ = ["Curve", "Dataset"]

_KNOWN = {"time_h", "plqy", "plqy_percent", "light", "temperature_k", "sample", "lifetime_ns"}


@dataclasses.dataclass(frozen=True)
class Curve:
    """One sample's time course. Arrays are float64 NumPy; `light`/`temperature_k` may be None.

    **Fields:** `sample` (name), `time_h` (h), `plqy` (fraction 0–1), `light` (0/1 per row or
    None), `temperature_k` (K per row or None), `lifetime_ns` (ns per row or None).
    """

    sample: str
    time_h: np.ndarray
    plqy: np.ndarray
    light: np.ndarray | None = None
    temperature_k: np.ndarray | None = None
    lifetime_ns: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.time_h)


@dataclasses.dataclass(frozen=True)
class Dataset:
    """PLQY curves from one file, one `Curve` per sample (in order of first appearance)."""

    curves: tuple[Curve, ...]
    source: str = ""
    note: str = ""

    @classmethod
    def from_csv(cls, path, *, split: str = "time") -> Dataset:
        """Read and validate a PLQY CSV file.

        Without a `sample` column, `split` says how the rows form curves: `"time"` (default)
        starts a new curve wherever time goes back (curves named `curve1`, `curve2`, ...);
        `"temperature"` makes one curve per `temperature_k` value (named like `318K`; what
        `kinetics` uses: one rate law per temperature). What was inferred is in `note` (one
        line; empty when the file names its samples or holds one curve).

        **Raises:** `DataError` with one line naming the file, row (1-based, header = row 1)
        and column of the first problem: missing file or column, empty file, text or NaN in a
        number column, PLQY out of range, `light` not 0/1, negative times, times going back
        within a sample, or a repeated time with unchanged conditions. Nothing is returned
        half-loaded.
        """
        if split not in ("time", "temperature"):
            raise DataError(f"split must be 'time' or 'temperature', got {split!r}")
        name = str(path)
        header, rows = _read_table(Path(path))
        arrays, samples = _parse_columns(name, header, rows)
        named = "sample" in header
        note = ""
        if not named:
            samples, note = _infer_curves(arrays, split)
        labels = np.asarray(samples)
        curves = []
        for s in dict.fromkeys(samples):
            idx = np.nonzero(labels == s)[0]
            _check_times(name, s, idx, arrays, inferred=not named)
            curves.append(Curve(
                sample=s,
                time_h=arrays["time_h"][idx],
                plqy=arrays["plqy"][idx],
                light=arrays["light"][idx] if "light" in arrays else None,
                temperature_k=arrays["temperature_k"][idx] if "temperature_k" in arrays else None,
                lifetime_ns=arrays["lifetime_ns"][idx] if "lifetime_ns" in arrays else None,
            ))
        return cls(tuple(curves), source=name, note=note)

    @property
    def samples(self) -> list[str]:
        return [c.sample for c in self.curves]

    def __len__(self) -> int:
        return len(self.curves)

    def to_csv(self, path) -> None:
        """Write all curves to one CSV (with a `sample` column) that `from_csv` reads back;
        written whole or not at all. Optional columns are written when every curve has them.
        """
        from ..runtime import atomic_path

        optional = [k for k in ("light", "temperature_k", "lifetime_ns")
                    if all(getattr(c, k) is not None for c in self.curves)]
        header = ["sample", "time_h", "plqy", *optional]
        with atomic_path(path) as tmp, open(tmp, "w") as fh:
            fh.write(",".join(header) + "\n")
            for c in self.curves:
                cols = [c.time_h, c.plqy] + [getattr(c, k) for k in optional]
                for i in range(len(c)):
                    cells = ["" if np.isnan(col[i]) else repr(float(col[i])) for col in cols]
                    if "light" in optional:
                        cells[2] = str(int(c.light[i]))
                    fh.write(",".join([c.sample, *cells]) + "\n")


def _infer_curves(arrays: dict, split: str) -> tuple[list[str], str]:
    """Sample labels for a file without a `sample` column, and a note of what was inferred."""
    n = arrays["time_h"].size
    if split == "temperature" and "temperature_k" in arrays:
        temps = arrays["temperature_k"]
        labels = [f"{t:g}K" for t in temps]
        count = len(set(labels))
        return labels, (f"read {count} curves, one per temperature_k (no sample column)"
                        if count > 1 else "")
    restarts = np.flatnonzero(np.diff(arrays["time_h"]) < 0) + 1
    if not restarts.size:
        return ["sample"] * n, ""
    curve = np.zeros(n, dtype=int)
    curve[restarts] = 1
    curve = np.cumsum(curve)
    rows = ", ".join(str(int(r) + 2) for r in restarts[:5]) + (", ..." if restarts.size > 5
                                                                else "")
    return ([f"curve{c + 1}" for c in curve],
            f"read {restarts.size + 1} curves, split where time restarts (rows {rows})")


def _check_times(name: str, sample: str, idx: np.ndarray, arrays: dict, inferred: bool) -> None:
    """Times of one sample: in order, and equal only where the conditions change."""
    t = arrays["time_h"][idx]
    dt = np.diff(t)
    back = np.flatnonzero(dt < 0)
    if back.size:
        i = back[0]
        raise DataError(f"{name}, row {int(idx[i + 1]) + 2}, column time_h: times of sample "
                        f"{sample!r} go back ({t[i + 1]:g} h after {t[i]:g} h); put each "
                        f"sample's rows in time order")
    conditions = [arrays[k][idx] for k in ("light", "temperature_k") if k in arrays]
    for i in np.flatnonzero(dt == 0):
        if any(c[i] != c[i + 1] for c in conditions):
            continue  # a measurement at the moment of a switch, before and after
        r = int(idx[i + 1]) + 2
        where = "" if inferred else f" of sample {sample!r}"
        raise DataError(f"{name}, row {r}, column time_h: time {t[i]:g} h{where} repeats the row "
                        f"before with the same light and temperature; two rows may share a time "
                        f"only where light or temperature_k changes: remove or average the "
                        f"duplicate")


def _check_ranges(name: str, values: dict[str, list[float]]) -> None:
    limits = {
        "time_h": (0.0, math.inf, "a time >= 0"),
        "plqy": (0.0, 1.0, "a fraction in [0, 1] (use the column plqy_percent for percent)"),
        "plqy_percent": (0.0, 100.0, "a percentage in [0, 100]"),
        "temperature_k": (1e-9, math.inf, "a temperature > 0 K"),
        "lifetime_ns": (1e-12, math.inf, "a lifetime > 0 ns"),
    }
    for h, vs in values.items():
        for r, v in enumerate(vs, start=2):
            if h == "light" and v not in (0.0, 1.0):
                raise DataError(f"{name}, row {r}, column light: {v:g} is not 0 or 1")
            if h in limits and not math.isnan(v):
                lo, hi, what = limits[h]
                if not lo <= v <= hi:
                    raise DataError(f"{name}, row {r}, column {h}: {v:g} is not {what}")


def _read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and the data rows (blank lines dropped) of a CSV file, the header checked:
    known columns, none twice, `time_h` and exactly one of `plqy` / `plqy_percent`."""
    name = str(path)
    try:
        with open(path, newline="") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise DataError(f"{name}: file not found") from None
    except UnicodeDecodeError:
        raise DataError(f"{name}: not a text CSV file") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise DataError(f"{name}: empty file (expected a header with time_h,plqy)")
    header = [h.strip() for h in rows[0]]
    unknown = [h for h in header if h not in _KNOWN]
    if unknown:
        raise DataError(f"{name}, row 1: unknown column {unknown[0]!r}; known columns: "
                        f"{', '.join(sorted(_KNOWN))}")
    if len(set(header)) != len(header):
        raise DataError(f"{name}, row 1: a column name appears twice")
    if "time_h" not in header:
        raise DataError(f"{name}, row 1: missing column 'time_h'")
    if ("plqy" in header) == ("plqy_percent" in header):
        raise DataError(f"{name}, row 1: need exactly one of the columns 'plqy' (fraction) "
                        f"or 'plqy_percent'")
    if len(rows) < 2:
        raise DataError(f"{name}: no data rows after the header")
    return header, rows[1:]


def _parse_columns(name: str, header: list[str], rows: list[list[str]]):
    """Every numeric column as a float array (PLQY as a fraction; a blank lifetime cell NaN:
    not measured then), ranges checked, and each row's sample name ("" without a column)."""
    col = {h: i for i, h in enumerate(header)}
    numeric = [h for h in header if h != "sample"]
    values: dict[str, list[float]] = {h: [] for h in numeric}
    samples: list[str] = []
    for r, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise DataError(f"{name}, row {r}: {len(row)} fields, header has {len(header)}")
        for h in numeric:
            text = row[col[h]].strip()
            if h == "lifetime_ns" and not text:
                values[h].append(math.nan)  # lifetime not measured at this time
                continue
            try:
                v = float(text)
            except ValueError:
                raise DataError(f"{name}, row {r}, column {h}: {text!r} is not a number") \
                    from None
            if not math.isfinite(v):
                raise DataError(f"{name}, row {r}, column {h}: {text!r} is not finite")
            values[h].append(v)
        samples.append(row[col["sample"]].strip() if "sample" in col else "")
    _check_ranges(name, values)
    arrays = {h: np.asarray(v, dtype=float) for h, v in values.items()}
    if "plqy_percent" in arrays:
        arrays["plqy"] = arrays.pop("plqy_percent") / 100.0
    return arrays, samples
