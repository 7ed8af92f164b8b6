"""What a fit returns: fitted values, uncertainties and the record of the run."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..parameters import Parameters
from ..protocol import Protocol

__all__ = ["FitResult"]


@dataclasses.dataclass
class FitResult:
    """Fitted values, uncertainties and the record of the run.

    **Fields:**

    - `free`, `values`, `stderr`: the global free parameters and their fitted values and
      standard errors (natural units, by name).
    - `per_sample`, `sample_values`, `sample_stderr`: per-sample parameters and, for every
      sample, their fitted values and standard errors (`{sample: {name: value}}`).
    - `columns`, `correlation`: the label of every fitted quantity (`name` for a global one,
      `name[sample]` for a per-sample one) and their correlation matrix in that order.
    - `loss` (sum of squared residuals, fraction²: PLQY, plus lifetimes in ns times
      `lifetime_weight_per_ns` where the data have them), `rmse_plqy` (fraction),
      `rmse_lifetime_ns` (ns, or None without lifetime data), `n_points` (PLQY points),
      `iterations` (optimiser iterations over all starts; one residual-and-Jacobian
      evaluation each for `"lm"`), `wall_s`, `method`.
    - `params` (the fitted `Parameters` of the first sample), `sample_params` (by sample),
      `protocols` (one per curve), `settings`, `history` (loss per iteration), `starts` (final
      loss and values of every start; the best is the result).
    """

    free: list[str]
    values: dict[str, float]
    stderr: dict[str, float]
    correlation: np.ndarray
    loss: float
    rmse_plqy: float
    n_points: int
    iterations: int
    wall_s: float
    params: Parameters
    protocols: list[Protocol]
    settings: dict
    history: list[float]
    columns: list[str] = dataclasses.field(default_factory=list)
    per_sample: list[str] = dataclasses.field(default_factory=list)
    sample_values: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    sample_stderr: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    sample_params: dict[str, Parameters] = dataclasses.field(default_factory=dict)
    starts: list[dict] = dataclasses.field(default_factory=list)
    method: str = "lm"
    rmse_lifetime_ns: float | None = None

    def to_json(self) -> dict:
        return dict(
            free=self.free,
            values=self.values,
            stderr=self.stderr,
            per_sample=self.per_sample,
            sample_values=self.sample_values,
            sample_stderr=self.sample_stderr,
            columns=self.columns,
            correlation=np.asarray(self.correlation).tolist(),
            loss=self.loss,
            rmse_plqy=self.rmse_plqy,
            rmse_lifetime_ns=self.rmse_lifetime_ns,
            n_points=self.n_points,
            iterations=self.iterations,
            wall_s=self.wall_s,
            method=self.method,
            starts=self.starts,
            settings=self.settings,
        )
