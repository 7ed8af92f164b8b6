"""Several data files as one dataset, linked by sample: what a lab measured of one film in
different instruments (a PLQY series in one file, spot measurements or lifetimes in another)
joined into one curve per sample, in time order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import DataError
from ._dataset import CONDITIONS, MEASUREMENTS, Curve, Dataset, on_grid, spectrum_grid

__all__ = ["combine_datasets"]


def _named(data: Dataset) -> Dataset:
    """The dataset with its curves named after the file where it named no samples."""
    if data.named_samples:
        return data
    stem = Path(data.source).stem or "data"
    rename = (lambda c: stem) if len(data.curves) == 1 else (lambda c: f"{stem}/{c.sample}")
    return dataclasses.replace(data, curves=tuple(dataclasses.replace(c, sample=rename(c))
                                                  for c in data.curves))


def _column(curve: Curve, field: str) -> np.ndarray:
    values = getattr(curve, field)
    return np.full(len(curve), np.nan) if values is None else np.asarray(values, float)


def _fill_conditions(sample, parts, table, order, conditions) -> list[str]:
    """A file without a condition column takes it from the row before in time (of the files
    that have it); returns a note per filled column. **Raises:** `DataError` where no earlier
    row gives it."""
    notes = []
    for f in conditions:
        col = table[f][order]
        if not np.isnan(col).any():
            continue
        if np.isnan(col[0]):
            src = parts[int(table["_source"][order][0])][0]
            raise DataError(f"sample {sample!r}: {src} has no {f} column and its first row "
                            f"comes before any row of the files that have one; give the "
                            f"column in {src}")
        for i in range(1, col.size):
            if np.isnan(col[i]):
                col[i] = col[i - 1]
        table[f][order] = col
        lack = [src for src, c in parts if getattr(c, f) is None]
        notes.append(f"{f} of {', '.join(lack)} taken from the rows before in time")
    return notes


def _join(sample: str, parts: list[tuple[str, Curve]]) -> tuple[Curve, list[str]]:
    """One sample's curves from several files: rows in time order (a file's order kept for
    equal times); a condition a file lacks from the row before; rows at one time with the same
    conditions are one measurement time, their cells joined (a measurement given twice is
    refused). Returns the curve and notes."""
    conditions = [f for f in CONDITIONS if any(getattr(c, f) is not None for _, c in parts)]
    fields = ["time_h", *conditions, *MEASUREMENTS]
    table = {f: np.concatenate([_column(c, f) for _, c in parts]) for f in fields}
    grid = spectrum_grid([c for _, c in parts])
    spectra = np.concatenate([on_grid(c, grid) for _, c in parts])
    table["_source"] = np.concatenate([np.full(len(c), k) for k, (_, c) in enumerate(parts)])
    order = np.lexsort((table["_source"], table["time_h"]))
    notes = _fill_conditions(sample, parts, table, order, conditions)
    rows: list[dict] = []
    for i in order:
        row = {f: table[f][i] for f in fields}
        row["_spectrum"] = spectra[i].copy()
        last = rows[-1] if rows else None
        if last is not None and all(last[f] == row[f] for f in ["time_h", *conditions]):
            for f in MEASUREMENTS:
                if np.isfinite(row[f]) and np.isfinite(last[f]):
                    raise DataError(f"sample {sample!r}: {f} at {row['time_h']:g} h is given "
                                    f"in {parts[last['_src']][0]} and "
                                    f"{parts[int(table['_source'][i])][0]}; keep one")
                if np.isfinite(row[f]):
                    last[f] = row[f]
            both = np.isfinite(row["_spectrum"]) & np.isfinite(last["_spectrum"])
            if both.any():
                raise DataError(f"sample {sample!r}: a spectrum at {row['time_h']:g} h is "
                                f"given in {parts[last['_src']][0]} and "
                                f"{parts[int(table['_source'][i])][0]}; keep one")
            last["_spectrum"] = np.where(np.isfinite(row["_spectrum"]), row["_spectrum"],
                                         last["_spectrum"])
            continue
        rows.append(dict(row, _src=int(table["_source"][i])))
    out = {f: np.asarray([r[f] for r in rows]) for f in fields}
    curve = Curve(sample=sample, time_h=out["time_h"], plqy=out["plqy"],
                  **{f: out[f] for f in conditions},
                  **{f: (out[f] if any(getattr(c, f) is not None for _, c in parts) else None)
                     for f in MEASUREMENTS if f != "plqy"},
                  spectrum_nm=grid if grid.size else None,
                  spectrum=np.stack([r["_spectrum"] for r in rows]) if grid.size else None)
    return curve, notes


def combine_datasets(datasets: Dataset | Sequence[Dataset]) -> Dataset:
    """One dataset from several, linked by sample name.

    A sample in one file keeps its curve; a sample in several gets one curve with every file's
    rows in time order, rows at one time under the same conditions joined into one (a PLQY in
    one file, a lifetime in the other). A file that names no samples (no sample column) is a
    sample of its own, named after the file. A single `Dataset` is returned as it is.

    A file without a condition column another file of the sample has (a lifetime file
    without `light`) takes it from the row before in time, and the note says so.

    **Raises:** `DataError` where such a file's first row comes before every row that gives
    the condition, or two files give the same measurement at one time.
    """
    if isinstance(datasets, Dataset):
        return datasets
    datasets = list(datasets)
    if not datasets or not all(isinstance(d, Dataset) for d in datasets):
        raise DataError("expected a Dataset or a non-empty list of Datasets, got "
                        f"{[type(d).__name__ for d in datasets] or 'an empty list'}")
    if len(datasets) == 1:
        return datasets[0]
    named = [_named(d) for d in datasets]
    by_sample: dict[str, list[tuple[str, Curve]]] = {}
    for d in named:
        for c in d.curves:
            by_sample.setdefault(c.sample, []).append((d.source or "data", c))
    curves, joined = [], []
    for sample, parts in by_sample.items():
        if len(parts) == 1:
            curves.append(parts[0][1])
            continue
        curve, filled = _join(sample, parts)
        curves.append(curve)
        joined.append(f"{sample!r} from {' and '.join(src for src, _ in parts)}"
                      + "".join(f" ({note})" for note in filled))
    unnamed = [d.source for d in datasets if not d.named_samples]
    notes = ([f"joined sample(s) {'; '.join(joined)}"] if joined else []) + (
        [f"{', '.join(unnamed)}: no sample column, so each file is its own sample (named after "
         f"the file); add a sample column to link files"] if unnamed else [])
    return Dataset(tuple(curves), source=" + ".join(d.source for d in datasets),
                   note="; ".join(notes))
