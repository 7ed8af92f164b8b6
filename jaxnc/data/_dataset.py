"""Measured data: time courses of PLQY, PL intensity, lifetime and peak per sample, read from
CSV files or DataFrames as labs write them and validated before anything is used.

Columns (the whole table of names and units: `docs/data.md`): a time column and at
least one measurement, each with its unit in the header (`Time (min)`, `t / s`, `time_h`,
`PLQY (%)`, `plqy` (a fraction), `PL intensity (a.u.)`, `lifetime (ns)`, `peak (nm)`); the
conditions `light` (on/off, yes/no, true/false, 1/0), `T (°C)` / `temperature_k`,
`irradiance (mW/cm²)`, `excitation wavelength (nm)`; and `sample`. Names are read in any case;
columns that name no quantity are ignored with a note; a blank measurement cell is "not
measured then", a blank condition or sample cell the row above's value. Rows of one sample
must have non-negative times in order; two rows may share a time only where a condition
changes (a measurement at the moment of a switch: the row belongs to the step its conditions
name). A file without a sample column may hold several curves one after another: a new curve
starts where time goes back (or, with `split="temperature"`, one curve per temperature).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import DataError
from ._reader import MEASUREMENTS, Columns, read_columns
from ._spectra import spectra_of, spectral_columns, wide_from_long
from ._table import Table, read_table, table_from_frame

__all__ = ["Curve", "Dataset", "CONDITIONS", "MEASUREMENTS"]

CONDITIONS = ("light", "temperature_k", "irradiance_mw_cm2", "excitation_nm")
_OPTIONAL = ("light", "temperature_k", "irradiance_mw_cm2", "excitation_nm", "lifetime_ns",
             "intensity", "peak_nm")


@dataclasses.dataclass(frozen=True)
class Curve:
    """One sample's time course. Arrays are float64 NumPy, one entry per row; NaN in a
    measurement: not measured at that row; an optional column is None when the file has none.

    **Fields:** `sample` (name), `time_h` (h), `plqy` (fraction 0–1; all NaN without a PLQY
    column), `light` (0/1), `temperature_k` (K), `lifetime_ns` (ns), `intensity` (PL counts,
    any scale), `peak_nm` (nm), `irradiance_mw_cm2` (mW/cm², the light's), `excitation_nm`
    (nm, the light's); `spectrum_nm` `(W,)` the wavelengths (nm) of `spectrum` `(rows, W)`, PL
    spectra in counts per wavelength (any scale; a row of NaN: no spectrum at that time).
    """

    sample: str
    time_h: np.ndarray
    plqy: np.ndarray
    light: np.ndarray | None = None
    temperature_k: np.ndarray | None = None
    lifetime_ns: np.ndarray | None = None
    intensity: np.ndarray | None = None
    peak_nm: np.ndarray | None = None
    irradiance_mw_cm2: np.ndarray | None = None
    excitation_nm: np.ndarray | None = None
    spectrum_nm: np.ndarray | None = None
    spectrum: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.time_h)

    @property
    def plqy_measured(self) -> np.ndarray:
        """Which rows hold a PLQY value (bool per row)."""
        return np.isfinite(self.plqy)


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Time courses from one file, one `Curve` per sample (in order of first appearance);
    `note`: what the reader inferred or tolerated, one line; `named_samples`: whether the
    file named its samples (False: names inferred, e.g. `sample`, `curve2`, `318K`)."""

    curves: tuple[Curve, ...]
    source: str = ""
    note: str = ""
    named_samples: bool = True

    @classmethod
    def from_csv(cls, path, *, split: str = "time", columns: dict | None = None) -> Dataset:
        """Read and validate a data CSV file (module docstring; `,`, `;` or tab delimited,
        decimal commas read where the delimiter is not a comma).

        `columns` says what a header holds where the reader cannot tell or reads it wrongly:
        `{"PL (a.u.)": "intensity", "Time": "time (min)", "notes": "ignore"}` (a field name,
        a header with its unit, or `"ignore"`).

        Without a sample column, `split` says how the rows form curves: `"time"` (default)
        starts a new curve wherever time goes back (curves named `curve1`, `curve2`, ...);
        `"temperature"` makes one curve per temperature (named like `318K`; what `kinetics`
        uses: one rate law per temperature). What was inferred or tolerated is in `note`.

        **Raises:** `DataError` with one line naming the file, row (1-based, header = row 1)
        and column of the first problem: a missing file or column, a header naming a quantity
        with a unit not understood or missing, an empty file, text where a number belongs, a
        value out of range, times going back within a sample, or a repeated time with
        unchanged conditions. Nothing is returned half-loaded.
        """
        _check_options(split, columns)
        return cls._from_table(read_table(path), split, columns)

    @classmethod
    def from_frame(cls, frame, *, split: str = "time", columns: dict | None = None,
                   source: str = "DataFrame") -> Dataset:
        """The same as `from_csv` for a pandas DataFrame (column names as headers, missing
        values as blank cells, rows numbered as in a CSV written from it)."""
        _check_options(split, columns)
        return cls._from_table(table_from_frame(frame, source), split, columns)

    @classmethod
    def _from_table(cls, table: Table, split: str, columns: dict | None) -> Dataset:
        table, long_note = wide_from_long(table)
        spectral = spectral_columns(table)
        nm = spectra = None
        if spectral:
            nm, spectra, blank = spectra_of(table, spectral)
            keep = [i for i in range(len(table.header)) if i not in spectral]
            table = dataclasses.replace(table, header=[table.header[i] for i in keep],
                                        rows=[[r[i] for i in keep] for r in table.rows])
        cols = read_columns(table, columns, spectra=bool(spectral))
        named = "sample" in cols.headers
        notes = ([long_note] if long_note else []) + list(cols.notes)
        if spectral:
            n = int(np.isfinite(spectra).any(axis=1).sum())
            notes.append(f"{n} spectra at {nm.size} wavelengths ({nm[0]:g}-{nm[-1]:g} nm)"
                         + (f", {blank} blank cell(s) not measured" if blank else ""))
        samples = cols.samples
        if not named:
            samples, inferred = _infer_curves(cols, split)
            notes += [inferred] if inferred else []
        labels = np.asarray(samples)
        curves = []
        for s in dict.fromkeys(samples):
            idx = np.nonzero(labels == s)[0]
            _check_times(table.source, s, idx, cols, inferred=not named)
            v = {k: a[idx] for k, a in cols.values.items()}
            curves.append(Curve(sample=s, time_h=v["time_h"],
                                plqy=v.get("plqy", np.full(idx.size, np.nan)),
                                **{k: v.get(k) for k in _OPTIONAL},
                                spectrum_nm=nm, spectrum=None if spectra is None
                                else spectra[idx]))
        return cls(tuple(curves), source=table.source, note="; ".join(notes),
                   named_samples=named)

    @property
    def samples(self) -> list[str]:
        return [c.sample for c in self.curves]

    def summary(self) -> str:
        """One line: the curves and rows read, the values of each measurement, the notes."""
        counts = []
        for field, label in (("plqy", "PLQY"), ("intensity", "PL intensity"),
                             ("lifetime_ns", "lifetime"), ("peak_nm", "peak")):
            n = sum(int(np.isfinite(getattr(c, field)).sum()) for c in self.curves
                    if getattr(c, field) is not None)
            counts += [f"{label} {n}"] if n else []
        spectra = sum(int(np.isfinite(c.spectrum).any(axis=1).sum()) for c in self.curves
                      if c.spectrum is not None)
        counts += [f"spectra {spectra}"] if spectra else []
        rows = sum(len(c) for c in self.curves)
        names = ", ".join(self.samples[:6]) + (", ..." if len(self.samples) > 6 else "")
        line = (f"{len(self.curves)} curve(s) ({names}), {rows} rows; values: "
                f"{', '.join(counts) or 'none'}")
        return line + (f"; {self.note}" if self.note else "")

    def __len__(self) -> int:
        return len(self.curves)

    def to_csv(self, path) -> None:
        """Write all curves to one CSV (with a `sample` column) that `from_csv` reads back;
        written whole or not at all. Optional columns are written when every curve has them,
        spectra as one column per wavelength (`500.0 nm`); a value not measured is a blank
        cell."""
        from ..runtime import atomic_path

        optional = [k for k in _OPTIONAL if all(getattr(c, k) is not None for c in self.curves)]
        grid = spectrum_grid(self.curves)
        header = ["sample", "time_h", "plqy", *optional] + [f"{float(nm)!r} nm" for nm in grid]
        with atomic_path(path) as tmp, open(tmp, "w") as fh:
            fh.write(",".join(header) + "\n")
            for c in self.curves:
                cols = [c.time_h, c.plqy] + [getattr(c, k) for k in optional]
                spectra = on_grid(c, grid)
                for i in range(len(c)):
                    cells = ["" if np.isnan(col[i]) else repr(float(col[i])) for col in cols]
                    if "light" in optional:
                        cells[2] = str(int(c.light[i]))
                    cells += ["" if np.isnan(v) else repr(float(v)) for v in spectra[i]]
                    fh.write(",".join([c.sample, *cells]) + "\n")


def spectrum_grid(curves) -> np.ndarray:
    """The wavelengths (nm) of every curve's spectra together, sorted."""
    grids = [c.spectrum_nm for c in curves if c.spectrum is not None]
    return np.unique(np.concatenate(grids)) if grids else np.zeros(0)


def on_grid(curve: Curve, grid: np.ndarray) -> np.ndarray:
    """A curve's spectra `(rows, len(grid))` on `grid` (NaN where it has no value)."""
    out = np.full((len(curve), grid.size), np.nan)
    if curve.spectrum is not None:
        out[:, np.searchsorted(grid, curve.spectrum_nm)] = curve.spectrum
    return out


def _check_options(split: str, columns) -> None:
    if split not in ("time", "temperature"):
        raise DataError(f"split must be 'time' or 'temperature', got {split!r}")
    if columns is not None and not isinstance(columns, dict):
        raise DataError(f"columns must be a dict {{header: what it holds}}, got "
                        f"{type(columns).__name__}")


def _infer_curves(cols: Columns, split: str) -> tuple[list[str], str]:
    """Sample labels for a file without a `sample` column, and a note of what was inferred."""
    arrays = cols.values
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
    rows = ", ".join(str(cols.lines[int(r)]) for r in restarts[:5]) + (", ..." if restarts.size > 5
                                                                else "")
    return ([f"curve{c + 1}" for c in curve],
            f"read {restarts.size + 1} curves, split where time restarts (rows {rows})")


def _check_times(name: str, sample: str, idx: np.ndarray, cols: Columns, inferred: bool) -> None:
    """Times of one sample: in order, and equal only where the conditions change."""
    t = cols.values["time_h"][idx]
    dt = np.diff(t)
    back = np.flatnonzero(dt < 0)
    if back.size:
        i = back[0]
        raise DataError(f"{name}, {cols.where('time_h', int(idx[i + 1]))}: times of sample "
                        f"{sample!r} go back ({t[i + 1]:g} h after {t[i]:g} h); put each "
                        f"sample's rows in time order")
    conditions = [cols.values[k][idx] for k in CONDITIONS if k in cols.values]
    for i in np.flatnonzero(dt == 0):
        if any(c[i] != c[i + 1] for c in conditions):
            continue  # a measurement at the moment of a switch, before and after
        where = "" if inferred else f" of sample {sample!r}"
        raise DataError(f"{name}, {cols.where('time_h', int(idx[i + 1]))}: time {t[i]:g} h"
                        f"{where} repeats the row before with the same conditions; two rows "
                        f"may share a time only where the light, temperature or irradiance "
                        f"changes: remove or average the duplicate")
