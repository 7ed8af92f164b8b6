"""What a fit returns: fitted values, uncertainties and the record of the run."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from ..parameters import Parameters
from ..protocol import Protocol
from ..runtime import json_safe
from ._multistart import _Run
from ._observations import KINDS, UNITS
from ._problem import ResidualProblem
from ._setup import FitProblem
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
    - `loss` (sum of squared residuals in PLQY-equivalent units, fraction²: each kind's misfit
      times the PLQY noise over its own noise, `jaxnc.fitting._observations`), `rmse_plqy`
      (fraction; None without PLQY data), `rmse_lifetime_ns` (ns, or None without lifetime
      data), `n_points` (PLQY points), `n_data` (data points of every kind),
      `iterations` (optimiser iterations over all starts; one residual-and-Jacobian
      evaluation each for `"lm"`), `wall_s`, `method`.
    - `goodness`: per kind of data (`plqy`, `lifetime`, `intensity`, `spectrum`): `n`
      (points), `rmse` and `noise` (in the kind's `unit`: intensity relative (log scale),
      spectra as a fraction of each spectrum's maximum), `noise_source` (`estimated` from
      the data, `given`, or `assumed` for too few points) and `reduced_chi2` (sum of
      (misfit / noise)² over `n - p n / N`, the kind's share of the degrees of freedom):
      about 1 where the model explains the data to their noise.
    - `collection_factor`, `collection_factor_stderr`: per sample with PL intensity data, the
      factor `c` of `counts = c * PLQY * photons absorbed per second and cm²` (counts per
      photon emitted per second and cm², `Model.absorbed_photons_cm2_s`) solved exactly at
      every step, and its standard error (the full Jacobian, the parameters' uncertainty
      included).
    - `notes`: what the fit left out of the data, and why.
    - In the JSON (`to_json`) also `parameters`, every value of the fitted set (the first
      sample's), and `sample_parameters` (`{sample: every value}` where the fit had
      per-sample parameters): what `Parameters.from_json` and
      `jaxnc simulate --params` read.
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
    n_data: int = 0
    goodness: dict = dataclasses.field(default_factory=dict)
    collection_factor: dict = dataclasses.field(default_factory=dict)
    collection_factor_stderr: dict = dataclasses.field(default_factory=dict)
    notes: list = dataclasses.field(default_factory=list)

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
        for sample, c in self.collection_factor.items():
            out.append(f"{'collection_factor[' + sample + ']':30s} {c:12.5g} +- "
                       f"{self.collection_factor_stderr[sample]:.2g}")
        for kind, g in self.goodness.items():
            out.append(f"{kind}: {g['n']} points, rmse {g['rmse']:.3g} {g['unit']} against "
                       f"noise {g['noise']:.3g} ({g['noise_source']}), reduced chi-square "
                       f"{g['reduced_chi2']:.2f}")
        out += [f"note: {n}" for n in self.notes]
        out.append(f"{self.iterations} iterations, {self.wall_s:.1f} s")
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
            goodness=self.goodness,
            collection_factor=self.collection_factor,
            collection_factor_stderr=self.collection_factor_stderr,
            notes=self.notes,
            n_points=self.n_points,
            n_data=self.n_data,
            parameters=self.params.to_dict(),
            sample_parameters=({s: p.to_dict() for s, p in self.sample_params.items()}
                               if self.per_sample else {}),
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
    n_points, n_factors = setup.n_points, int(setup.extra_samples.size)
    # The Jacobian is accurate to about 10 rtol (measured: 1.4e-5 of each column's largest
    # entry at rtol 1e-6, jaxnc.solve.solve_sensitivities_at), so it resolves no finer direction.
    resolution = 10.0 * float(problem.settings.rtol)
    sd, corr, undetermined, directions = _laplace(r, jac, setup.n_data - n_factors,
                                                  problem, best_z, resolution)
    factors, factor_sd = _collection_factors(setup, r, jac)
    columns = free + [f"{n}[{s}]" for s in samples for n in per_sample]
    zg, zs = problem.split(jnp.asarray(best_z))
    sample_params = {s: problem.params_of(zg, zs[i]) for i, s in enumerate(samples)}
    first = sample_params[samples[0]]
    is_plqy, n_lifetimes, g = setup.is_plqy, setup.n_lifetimes, len(free)
    goodness = _goodness(setup, r, len(columns) + n_factors)
    return FitResult(
        free=free,
        values={n: float(np.asarray(getattr(first, n))) for n in free},
        stderr=dict(zip(free, sd[:g], strict=True)),
        correlation=corr,
        loss=float(r @ r),
        rmse_plqy=(float(np.sqrt(np.sum(r[is_plqy] ** 2) / n_points)) if n_points else None),
        rmse_lifetime_ns=goodness["lifetime"]["rmse"] if n_lifetimes else None,
        n_data=setup.n_data,
        goodness=goodness,
        collection_factor={samples[i]: v for i, v in factors.items()},
        collection_factor_stderr={samples[i]: v for i, v in factor_sd.items()},
        notes=list(setup.notes),
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


def _goodness(setup: FitProblem, r, n_fitted: int) -> dict:
    """Per kind present: points, rmse and noise in the kind's unit, reduced chi-square."""
    out = {}
    total = max(setup.n_data, 1)
    ref = setup.noise.reference
    for k, kind in enumerate(KINDS):
        n = setup.counts.get(kind, 0)
        if not n:
            continue
        rk = r[setup.kind == k]
        w = float(setup.weights[k])
        chi2 = float(np.sum(rk**2)) / ref**2
        dof = max(n - n_fitted * n / total, 1.0)
        out[kind] = dict(n=n, unit=UNITS[kind],
                         rmse=float(np.sqrt(np.sum(rk**2) / max(n, 1))) / w,
                         noise=ref / w, noise_source=(
                             "given (lifetime_weight_per_ns)" if kind == "lifetime" and
                             setup.lifetime_weight_per_ns is not None
                             else setup.noise.source[kind]),
                         reduced_chi2=chi2 / dof)
    return out


def _collection_factors(setup: FitProblem, r, jac) -> tuple[dict, dict]:
    """Each intensity sample's collection factor and its standard error, from the Jacobian
    of the residuals at fixed factors (the projected Jacobian plus each factor's own
    dependence on the parameters) augmented with one column per factor."""
    if not setup.extra_samples.size:
        return {}, {}
    log_c, dlog_c = setup.extras
    intensity = (setup.kind == KINDS.index("intensity")) * setup.mask * setup.weights[2]
    columns = np.stack([intensity * (setup.sample_of == s) for s in setup.extra_samples], 1)
    full = np.hstack([jac - columns @ dlog_c, columns])  # r = w (d + log c(z))
    dof = max(setup.n_data - full.shape[1], 1)
    cov = float(r @ r) / dof * np.linalg.pinv(full.T @ full)
    sd_log = np.sqrt(np.clip(np.diag(cov)[-log_c.size:], 0.0, None))
    values = np.exp(log_c)
    return ({int(s): float(v) for s, v in zip(setup.extra_samples, values, strict=True)},
            {int(s): float(v * e) for s, v, e in zip(setup.extra_samples, values, sd_log,
                                                     strict=True)})


def _natural(problem: ResidualProblem, samples: list, z) -> dict[str, float]:
    """The point `z` (transformed space) in natural units, by column label."""
    zg, zs = problem.split(jnp.asarray(z))
    out = {n: float(t.inverse(zg[i])) for i, (n, t) in
           enumerate(zip(problem.free, problem.transforms, strict=True))}
    for j, s in enumerate(samples):
        out.update({f"{n}[{s}]": float(t.inverse(zs[j, i])) for i, (n, t) in
                    enumerate(zip(problem.per_sample, problem.sample_transforms, strict=True))})
    return out
