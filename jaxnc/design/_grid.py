"""The sweep grid: axis values, the points they span, and the chunks those points run in.

The grid is the Cartesian product of the axes in a fixed order: `gap_nm`, `ligand_nm`, then any
of `layers`, `irradiance_mw_cm2`, `temperature_k`. Points are numbered in that order (the last
axis fastest); the CSV rows and a checkpoint's arrays follow the same numbering.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..errors import ParameterError

__all__ = ["GRADIENT_AXES", "parse_grid", "sweep_axes", "largest_batch", "point_columns",
           "chunks"]

#: The axes that carry forward-mode tangents: every gradient is per nm of one of these.
GRADIENT_AXES = ("gap_nm", "ligand_nm")


def parse_grid(text: str, name: str, integer: bool = False) -> np.ndarray:
    """Grid values from `"start:stop:count"` (inclusive, evenly spaced) or `"a,b,c"`.

    **Raises:** `ParameterError` naming the option and what is wrong.
    """
    text = str(text).strip()
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError
            start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
            if count < 1:
                raise ParameterError(f"{name} {text!r}: the count must be >= 1")
            values = np.linspace(start, stop, count)
        else:
            values = np.asarray([float(v) for v in text.split(",") if v.strip()])
    except ValueError:
        raise ParameterError(f"{name} {text!r}: expected START:STOP:COUNT (e.g. 1.5:5:16) or "
                             f"a comma-separated list") from None
    if values.size == 0:
        raise ParameterError(f"{name} {text!r}: no values")
    if integer:
        if not np.all(values == np.round(values)):
            raise ParameterError(f"{name} {text!r}: values must be whole numbers")
        values = values.astype(int)
    return values


def _axis(values, name: str, integer: bool = False) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    if arr.ndim != 1 or arr.size == 0:
        raise ParameterError(f"sweep {name} must be a non-empty 1D list of values")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ParameterError(f"sweep {name} must be positive and finite, got {arr.tolist()}")
    if integer:
        if not np.all(arr == np.round(arr)):
            raise ParameterError(f"sweep {name} must be whole numbers, got {arr.tolist()}")
        return arr.astype(int)
    return arr


def sweep_axes(gap_nm, ligand_nm, layers=None, irradiance_mw_cm2=None,
               temperature_k=None) -> dict[str, np.ndarray]:
    """The validated axes in grid order: gap and ligand length (nm), then layer counts,
    irradiance (mW/cm²) and temperature (K) where given (None: not swept).

    **Raises:** `ParameterError` for an empty, non-finite or non-positive axis, or for layer
    counts that are not whole numbers.
    """
    axes = {"gap_nm": _axis(gap_nm, "gap_nm"), "ligand_nm": _axis(ligand_nm, "ligand_nm")}
    if layers is not None:
        axes["layers"] = _axis(layers, "layers", integer=True)
    if irradiance_mw_cm2 is not None:
        axes["irradiance_mw_cm2"] = _axis(irradiance_mw_cm2, "irradiance_mw_cm2")
    if temperature_k is not None:
        axes["temperature_k"] = _axis(temperature_k, "temperature_k")
    return axes


def largest_batch(axes: dict) -> int:
    """Points that share one assembly shape (every axis but `layers`): the most one chunk can
    hold without padding."""
    return max(int(np.prod([len(v) for k, v in axes.items() if k != "layers"])), 1)


def point_columns(axes: dict) -> dict[str, np.ndarray]:
    """Every point's value of each axis, in grid order (as floats, `layers` included)."""
    n_points = int(np.prod([len(v) for v in axes.values()]))
    grid = np.asarray(list(itertools.product(*axes.values())), dtype=float).reshape(n_points, -1)
    return {a: grid[:, i] for i, a in enumerate(axes)}


def chunks(columns: dict, layer_counts, chunk: int) -> list[tuple[int | None, np.ndarray]]:
    """`(layer count, point indices)` per chunk: up to `chunk` consecutive points of one layer
    count (one assembly shape, so one compiled batch). `layer_counts` are the assembly
    templates' keys, None where layers are not swept."""
    n_points = len(columns["gap_nm"])
    layer_of = columns["layers"].astype(int) if "layers" in columns else np.full(n_points, -1)
    out = []
    for key in layer_counts:
        idx = np.flatnonzero(layer_of == (-1 if key is None else key))
        out += [(key, idx[i:i + chunk]) for i in range(0, idx.size, chunk)]
    return out
