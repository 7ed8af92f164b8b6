"""What a fit returns: fitted values, uncertainties and the record of the run."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from ..parameters import Parameters
from ..protocol import Protocol
from ..runtime import json_safe
from ._multistart import _Run
from ._problem import FitProblem, ResidualProblem
from ._uncertainty import _laplace

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
    - `undetermined`: labels (as in `columns`) of the fitted quantities the data do not
      determine: they lie along a direction the Jacobian does not resolve (singular value
      below `10 rtol` of the largest, columns scaled to unit length), so their standard
      errors are infinite (`null` in the JSON) and their correlations NaN.
    - `degenerate`: those directions, each `{label: weight}` (a unit vector in the fit's
      transformed space: log for rates, logit for fractions, entries below 1e-3 left out),
      largest weights first: the combinations the data leave free.
    - `free_choice`: with `free="auto"`, the `FreeChoice` that made `free` (what was fixed
      and why; also in `settings["free_choice"]`); else None.
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
    undetermined: list[str] = dataclasses.field(default_factory=list)
    degenerate: list[dict[str, float]] = dataclasses.field(default_factory=list)
    free_choice: object = None  # the FreeChoice of free="auto", else None

    def lines(self) -> list[str]:
        """A summary for the screen: every fitted value with its standard error, what the
        data do not determine (with the free combinations), and the misfit."""
        out = [f"{name:30s} {self.values[name]:12.5g} +- {self.stderr[name]:.2g}"
               for name in self.free]
        for sample, values in self.sample_values.items():
            for name, value in values.items():
                label = f"{name}[{sample}]"
                out.append(f"{label:30s} {value:12.5g} +- "
                           f"{self.sample_stderr[sample][name]:.2g}")
        if self.undetermined:
            out.append(f"not determined by these data (infinite standard error): "
                       f"{', '.join(self.undetermined)}; fix some of them (--set) or add data "
                       f"that constrain them (e.g. a lifetime_ns column)")
            for direction in self.degenerate:
                terms = " ".join(f"{w:+.2f} {label}" for label, w in direction.items())
                out.append(f"  free combination (transformed space): {terms}")
        out.append(f"rmse_plqy {self.rmse_plqy:.4f}, {self.iterations} iterations, "
                   f"{self.wall_s:.1f} s")
        return out

    def to_json(self) -> dict:
        """A JSON-ready dict: non-finite numbers (infinite standard errors, NaN
        correlations) as `null`."""
        return json_safe(dict(
            free=self.free,
            values=self.values,
            stderr=self.stderr,
            per_sample=self.per_sample,
            sample_values=self.sample_values,
            sample_stderr=self.sample_stderr,
            undetermined=self.undetermined,
            degenerate=self.degenerate,
            columns=self.columns,
            correlation=self.correlation,
            loss=self.loss,
            rmse_plqy=self.rmse_plqy,
            rmse_lifetime_ns=self.rmse_lifetime_ns,
            n_points=self.n_points,
            iterations=self.iterations,
            wall_s=self.wall_s,
            method=self.method,
            starts=self.starts,
            settings=self.settings,
        ))


def _direction(v: np.ndarray, columns: list[str]) -> dict[str, float]:
    """A unit vector as `{label: weight}`, sign fixed (largest weight positive), largest
    first, entries below 1e-3 left out."""
    v = v * np.sign(v[np.argmax(np.abs(v))])
    order = np.argsort(-np.abs(v))
    return {columns[i]: float(v[i]) for i in order if abs(v[i]) >= 1e-3}


def _fit_result(setup: FitProblem, run: _Run, settings: dict, wall_s: float) -> FitResult:
    """The result of a finished multi-start run: the best start, with its residuals,
    standard errors and correlations from one more evaluation at its point."""
    problem, samples = setup.problem, setup.samples
    free, per_sample = list(problem.free), list(problem.per_sample)
    losses = [f[0] for f in run.finished]
    best = int(np.nanargmin(losses)) if np.any(np.isfinite(losses)) else 0
    best_z = np.asarray(run.finished[best][1])
    r, jac = setup.evaluate(best_z)  # compiled already for "lm"
    setup.raise_if_failed("fit failed at the best point of every start")
    n_points = setup.n_points
    # The Jacobian is accurate to about 10 rtol (measured: 1.4e-5 of each column's largest
    # entry at rtol 1e-6, jaxnc.solve.solve_sensitivities_at), so it resolves no finer direction.
    resolution = 10.0 * float(problem.settings.rtol)
    sd, corr, undetermined, directions = _laplace(r, jac, n_points + setup.n_lifetimes,
                                                  problem, best_z, resolution)
    columns = free + [f"{n}[{s}]" for s in samples for n in per_sample]
    zg, zs = problem.split(jnp.asarray(best_z))
    sample_params = {s: problem.params_of(zg, zs[i]) for i, s in enumerate(samples)}
    first = sample_params[samples[0]]
    is_plqy, n_lifetimes, g = setup.is_plqy, setup.n_lifetimes, len(free)
    return FitResult(
        free=free,
        values={n: float(np.asarray(getattr(first, n))) for n in free},
        stderr=dict(zip(free, sd[:g], strict=True)),
        correlation=corr,
        loss=float(r @ r),
        rmse_plqy=float(np.sqrt(np.sum(r[is_plqy] ** 2) / n_points)),
        rmse_lifetime_ns=(float(np.sqrt(np.sum(r[~is_plqy] ** 2) / n_lifetimes)
                                / problem.lifetime_weight) if n_lifetimes else None),
        n_points=n_points,
        iterations=len(run.history),
        wall_s=wall_s,
        params=first,
        protocols=setup.protocols,
        settings=settings,
        history=list(run.history),
        columns=columns,
        undetermined=[columns[i] for i in undetermined],
        degenerate=[_direction(v, columns) for v in directions],
        per_sample=per_sample,
        sample_values={s: {n: float(np.asarray(getattr(sample_params[s], n)))
                           for n in per_sample} for s in samples},
        sample_stderr={s: {n: sd[g + j * len(per_sample) + i]
                           for i, n in enumerate(per_sample)} for j, s in enumerate(samples)},
        sample_params=sample_params,
        starts=[dict(loss=f[0], values=_natural(problem, samples, f[1])) for f in run.finished],
        method=settings["method"],
    )


def _natural(problem: ResidualProblem, samples: list, z) -> dict[str, float]:
    """The point `z` (transformed space) in natural units, by column label."""
    zg, zs = problem.split(jnp.asarray(z))
    out = {n: float(t.inverse(zg[i])) for i, (n, t) in
           enumerate(zip(problem.free, problem.transforms, strict=True))}
    for j, s in enumerate(samples):
        out.update({f"{n}[{s}]": float(t.inverse(zs[j, i])) for i, (n, t) in
                    enumerate(zip(problem.per_sample, problem.sample_transforms, strict=True))})
    return out
