"""Measured PLQY data: CSV files of PLQY against time, validated before anything is used.

Format (DESIGN §3): a header row; `time_h` and one of `plqy` (fraction 0–1) or
`plqy_percent` (0–100) required; optional `light` (0/1), `temperature_k`, `sample`,
`lifetime_ns` (ns; a blank cell: not measured at that time). Rows of one sample must have
non-negative, increasing times.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from pathlib import Path

import numpy as np

from .._errors import DataError

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

    @classmethod
    def from_csv(cls, path) -> Dataset:
        """Read and validate a PLQY CSV file.

        **Raises:** `DataError` with one line naming the file, row (1-based, header = row 1)
        and column of the first problem: missing file or column, empty file, text or NaN in a
        number column, PLQY out of range, `light` not 0/1, negative or unsorted times within a
        sample. Nothing is returned half-loaded.
        """
        path = Path(path)
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
        has_fraction, has_percent = "plqy" in header, "plqy_percent" in header
        if has_fraction == has_percent:
            raise DataError(f"{name}, row 1: need exactly one of the columns 'plqy' (fraction) "
                            f"or 'plqy_percent'")
        if len(rows) < 2:
            raise DataError(f"{name}: no data rows after the header")
        col = {h: i for i, h in enumerate(header)}
        numeric = [h for h in header if h != "sample"]
        values: dict[str, list[float]] = {h: [] for h in numeric}
        samples: list[str] = []
        for r, row in enumerate(rows[1:], start=2):
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
            samples.append(row[col["sample"]].strip() if "sample" in col else "sample")
        _check_ranges(name, values)
        arrays = {h: np.asarray(v, dtype=float) for h, v in values.items()}
        if has_percent:
            arrays["plqy"] = arrays.pop("plqy_percent") / 100.0
        order = list(dict.fromkeys(samples))
        labels = np.asarray(samples)
        curves = []
        for s in order:
            idx = np.nonzero(labels == s)[0]
            t = arrays["time_h"][idx]
            bad = np.nonzero(np.diff(t) <= 0)[0]
            if bad.size:
                r = int(idx[bad[0] + 1]) + 2
                raise DataError(f"{name}, row {r}, column time_h: times of sample {s!r} must "
                                f"increase (got {t[bad[0] + 1]:g} after {t[bad[0]]:g})")
            curves.append(Curve(
                sample=s,
                time_h=t,
                plqy=arrays["plqy"][idx],
                light=arrays["light"][idx] if "light" in arrays else None,
                temperature_k=arrays["temperature_k"][idx] if "temperature_k" in arrays else None,
                lifetime_ns=arrays["lifetime_ns"][idx] if "lifetime_ns" in arrays else None,
            ))
        return cls(tuple(curves), source=name)

    @property
    def samples(self) -> list[str]:
        return [c.sample for c in self.curves]

    def __len__(self) -> int:
        return len(self.curves)

    def to_csv(self, path) -> None:
        """Write all curves to one CSV (with a `sample` column) that `from_csv` reads back;
        written whole or not at all. Optional columns are written when every curve has them.
        """
        from .._io import atomic_path

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
