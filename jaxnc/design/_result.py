"""Sweep results: the per-point arrays a sweep fills, and the `SweepResult` made from them.

`PointArrays` holds every point's outputs flat, in grid order, as the chunks fill them and a
checkpoint stores them; `to_result` reshapes them onto the grid and gives each point its
status (`ok`, `partial`, `failed`) and the reason. `SweepResult` writes the CSV.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import ParameterError
from ..protocol import Protocol
from ..runtime import write_csv_text_atomic
from ..solve import result_message
from ._batching import RUNTIME_ERROR
from ._grid import GRADIENT_AXES
from ._metrics import METRICS, Goal, reason
from ._readout import UNDEFINED

__all__ = ["SweepResult", "PointArrays"]


@dataclasses.dataclass
class SweepResult:
    """Metrics and their gradients over a grid.

    **Fields:**

    - `axes`: swept axis name -> 1D values, in grid order (`gap_nm`, `ligand_nm`, then any of
      `layers`, `irradiance_mw_cm2`, `temperature_k`).
    - `metrics`: the metric names.
    - `values`: metric name -> array over the grid (shape `tuple(len(v) for v in axes)`).
    - `gradients`: `"d_<metric>_d_gap_nm"` / `"d_<metric>_d_ligand_nm"` -> array over the grid
      (metric units per nm).
    - `status`: per point `"ok"`, `"partial"` (a metric undefined there) or `"failed"` (the
      solver failed: every metric NaN); `reason`: why, or notes such as an extrapolation.
    - `settings`: what was run; `wall_s`, `first_chunk_s` (includes compilation), `n_chunks`.
    """

    axes: dict
    metrics: tuple
    values: dict
    gradients: dict
    status: np.ndarray
    reason: np.ndarray
    settings: dict
    wall_s: float = float("nan")
    first_chunk_s: float = float("nan")
    n_chunks: int = 0

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.axes.values())

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self.values:
            return self.values[name]
        if name in self.gradients:
            return self.gradients[name]
        raise KeyError(f"{name!r}: not a metric or gradient of this sweep "
                       f"({', '.join(self.columns)})")

    @property
    def columns(self) -> list[str]:
        cols = list(self.axes) + list(self.metrics)
        cols += [f"d_{m}_d_{a}" for m in self.metrics for a in GRADIENT_AXES]
        return cols + ["status", "reason"]

    def points(self) -> list[dict]:
        """One dict per grid point, keyed by `columns`."""
        grids = np.meshgrid(*self.axes.values(), indexing="ij")
        rows = []
        for idx in np.ndindex(self.shape):
            row = {a: g[idx].item() for a, g in zip(self.axes, grids, strict=True)}
            row.update({m: float(self.values[m][idx]) for m in self.metrics})
            row.update({k: float(v[idx]) for k, v in self.gradients.items()})
            row.update(status=str(self.status[idx]), reason=str(self.reason[idx]))
            rows.append(row)
        return rows

    def to_csv(self, path) -> None:
        """One row per grid point: axes, metrics, `d_<metric>_d_gap_nm`,
        `d_<metric>_d_ligand_nm`, `status`, `reason`. Written whole or not at all."""
        rows = []
        for row in self.points():
            rows.append({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
        write_csv_text_atomic(path, rows, self.columns)

    def best(self, metric: str, goal: str | None = None) -> dict:
        """The grid point with the best value of `metric` (`goal` "max", "min" or "zero",
        default the metric's own), as a row dict; NaN points are skipped."""
        if metric not in self.values:
            raise ParameterError(f"{metric!r} is not a metric of this sweep "
                                 f"({', '.join(self.metrics)})")
        goal = METRICS[metric].goal if goal is None else Goal.parse(goal)
        v = np.asarray(self.values[metric], dtype=float)
        if not np.isfinite(v).any():
            raise ParameterError(f"{metric}: no grid point has a finite value")
        score = goal.score(v)
        flat = np.where(np.isfinite(v), score, -np.inf).ravel()
        idx = np.unravel_index(int(np.argmax(flat)), self.shape)
        return self.points()[int(np.ravel_multi_index(idx, self.shape))]


@dataclasses.dataclass
class PointArrays:
    """Every point's outputs, flat in grid order (`n` points, `M` metrics, `S` protocol steps).

    **Fields:**

    - `values`: `(n, M)` metric values (metric units; NaN where not done or undefined).
    - `jac`: `(n, M, 2)` their gradients with respect to gap and ligand length (per nm).
    - `flags`: `(n, M)` metric flags (`OK`, `EXTRAPOLATED`, `UNDEFINED` of `_readout`).
    - `codes`: `(n, S)` solver result code per step (0: success; `RUNTIME_ERROR`: the solve
      raised).
    - `done`: `(n,)` whether the point has been solved (a resumed sweep skips done chunks).
    """

    values: np.ndarray
    jac: np.ndarray
    flags: np.ndarray
    codes: np.ndarray
    done: np.ndarray

    @classmethod
    def empty(cls, n_points: int, n_metrics: int, n_steps: int) -> PointArrays:
        """Nothing done yet: values and gradients NaN, flags and codes 0."""
        return cls(values=np.full((n_points, n_metrics), np.nan),
                   jac=np.full((n_points, n_metrics, 2), np.nan),
                   flags=np.zeros((n_points, n_metrics), dtype=np.int32),
                   codes=np.zeros((n_points, n_steps), dtype=np.int32),
                   done=np.zeros(n_points, dtype=bool))

    def fill(self, idx: np.ndarray, outputs) -> None:
        """Store one chunk's `(values, jac, flags, codes)` at points `idx` and mark them done."""
        self.values[idx], self.jac[idx], self.flags[idx], self.codes[idx] = outputs
        self.done[idx] = True

    def to_result(self, axes: dict, metrics: tuple, protocol: Protocol, errors: dict, *,
                  settings: dict, first_chunk_s: float, n_chunks: int) -> SweepResult:
        """The grid-shaped `SweepResult` (its `wall_s` left for the caller to time). `errors`:
        `{point: message}` for points whose solve raised in this run."""
        shape = tuple(len(v) for v in axes.values())
        status, reason = _status(metrics, self.flags, self.codes, protocol, errors)
        grad = {}
        for i, m in enumerate(metrics):
            for j_axis, a in enumerate(GRADIENT_AXES):
                grad[f"d_{m}_d_{a}"] = self.jac[:, i, j_axis].reshape(shape)
        return SweepResult(
            axes=axes, metrics=metrics,
            values={m: self.values[:, i].reshape(shape) for i, m in enumerate(metrics)},
            gradients=grad, status=status.reshape(shape), reason=reason.reshape(shape),
            settings=settings, first_chunk_s=first_chunk_s, n_chunks=n_chunks,
        )


def _status(metrics, flags, codes, protocol: Protocol, errors: dict):
    """Per point its status (`"ok"`, `"partial"`, `"failed"`) and reason, flat."""
    steps = protocol.steps
    status = np.empty(len(flags), dtype=object)
    reasons = np.empty(len(flags), dtype=object)
    for i in range(len(flags)):
        if i in errors or np.any(codes[i] == RUNTIME_ERROR):
            status[i] = "failed"
            reasons[i] = "solve raised: " + errors.get(i, "a runtime check failed (see log)")
            continue
        bad = np.flatnonzero(codes[i] != 0)
        if bad.size:
            k = int(bad[0])
            code = int(codes[i, k])
            msg = result_message(code)
            status[i] = "failed"
            reasons[i] = f"solver failed in step {k + 1} ({steps[k]}): {msg}"
            continue
        status[i] = "partial" if np.any(flags[i] == UNDEFINED) else "ok"
        reasons[i] = reason(metrics, flags[i])
    return status, reasons
