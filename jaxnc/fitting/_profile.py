"""`profile()`: the profile likelihood of one parameter.

Along a grid of one parameter's values the other free parameters are fitted again (each fit
warm-started from its neighbour's, walking out from the optimum), and the profile

    chi2(v) = (loss(v) - loss_min) / s2,    s2 = loss_min / (n - p)

(`n` PLQY points, `p` fitted quantities) is compared with the chi-squared quantiles of one
degree of freedom (1.0 for 68 %, 3.841 for 95 %): the likelihood-ratio interval, which needs
no Gaussian approximation of the posterior (unlike the Gauss-Newton standard errors of
[`fit`][]). A side where the profile does not reach the quantile within the grid is open
(`None`); a profile that stays below 1 over the whole grid is flagged flat: the data do not
determine the parameter.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..data import combine_datasets
from ..errors import ParameterError, SolverError
from ._fit import fit
from ._setup import fit_problem_of
from ._transforms import Transform

__all__ = ["ProfileResult", "profile", "likelihood_interval", "CHI2_QUANTILES"]

#: Chi-squared quantiles of one degree of freedom: 68.27 % and 95 %.
CHI2_QUANTILES = {"ci68": 1.0, "ci95": 3.841458820694124}


@dataclasses.dataclass
class ProfileResult:
    """A parameter's profile.

    **Fields:** `parameter`; `values` (the grid, natural units) and, at each, `loss`
    (fraction², the best of the re-fitted others), `chi2` and `others` (`{name: values}`,
    the re-fitted parameters); `optimum` and `stderr` (the full fit's value and Gauss-Newton
    standard error); `s2` (residual variance, fraction²); `ci68`, `ci95` (likelihood-ratio
    intervals, `None` for an open side); `laplace_ci95` (optimum +- 1.96 standard errors in
    the fit's transformed space, mapped back); `flat` (chi2 < 1 over the whole grid);
    `identifiable` (both sides of `ci95` closed).
    """

    parameter: str
    values: np.ndarray
    loss: np.ndarray
    chi2: np.ndarray
    others: dict
    optimum: float
    stderr: float
    s2: float
    ci68: tuple
    ci95: tuple
    laplace_ci95: tuple
    flat: bool
    identifiable: bool

    def to_json(self) -> dict:
        """A JSON-serialisable dict (open interval sides and infinities as `null`)."""
        def num(x):
            return None if x is None or not np.isfinite(x) else float(x)

        return dict(parameter=self.parameter, values=[num(v) for v in self.values],
                    loss=[num(v) for v in self.loss], chi2=[num(v) for v in self.chi2],
                    others={k: [num(v) for v in vs] for k, vs in self.others.items()},
                    optimum=num(self.optimum), stderr=num(self.stderr), s2=num(self.s2),
                    ci68=[num(v) for v in self.ci68], ci95=[num(v) for v in self.ci95],
                    laplace_ci95=[num(v) for v in self.laplace_ci95], flat=self.flat,
                    identifiable=self.identifiable)


def likelihood_interval(z, chi2, quantile: float) -> tuple:
    """Where `chi2(z)` (sorted `z`) first reaches `quantile` on each side of its minimum:
    `(lo, hi)` in `z`, `None` for a side that stays below. Between grid points `sqrt(chi2)`
    is interpolated linearly (the signed root of a quadratic profile is linear in `z`, so a
    Gaussian case is exact on any grid through its minimum, as [`profile`][]'s is). A gap
    (NaN) is never interpolated across: a side whose crossing falls in one stays open."""
    z, root = np.asarray(z, float), np.sqrt(np.maximum(np.asarray(chi2, float), 0.0))
    k = int(np.nanargmin(root))
    level = np.sqrt(quantile)
    bounds = []
    for side in (range(k, -1, -1), range(k, z.size)):
        idx = list(side)
        found = None
        for a, b in zip(idx[:-1], idx[1:], strict=False):
            if root[b] >= level > root[a]:
                found = z[a] + (level - root[a]) * (z[b] - z[a]) / (root[b] - root[a])
                break
        bounds.append(found)
    return tuple(bounds)


def profile(data, assembly, params, parameter: str, free, *, per_sample=(),
            model: str = "mean_field", points: int = 13, span: float = 4.0,
            progress: bool = True, **fit_options) -> ProfileResult:
    """The profile likelihood of `parameter` (module docstring).

    **Arguments:**

    - `data`, `assembly`, `params`, `per_sample`, `model`: as in [`fit`][].
    - `parameter`: the profiled parameter's name.
    - `free`: the other global parameters fitted at every grid point (may be empty).
    - `points`: grid points (odd, the optimum in the middle; >= 5).
    - `span`: the grid's half width in standard errors of the full fit, in its transformed
      space (log for rates, logit for fractions); 4 covers a Gaussian's 95 % twice. Where
      the full fit cannot give a standard error (the parameter undetermined), 2 units of the
      transformed space (a factor e^2 for a rate); never more than 5 units. A grid point
      where the model cannot be solved is a gap (NaN loss); the walk goes on from the last
      point that solved.
    - `fit_options`: passed to every [`fit`][] (e.g. `max_iter`, `irradiance_mw_cm2`).

    **Returns:** a [`ProfileResult`][].
    """
    if isinstance(data, (list, tuple)):  # several files: one dataset, by sample
        data = combine_datasets(data)
    others = [n for n in free if n != parameter]
    if int(points) < 5 or int(points) % 2 == 0:
        raise ParameterError(f"points must be odd and >= 5, got {points}")
    if not span > 0:
        raise ParameterError(f"span must be > 0 standard errors, got {span}")
    opts = dict(per_sample=list(per_sample), model=model, starts=1, progress=False,
                **fit_options)
    full = fit(data, assembly, params, [parameter, *others], **opts)
    x_hat, se = full.values[parameter], full.stderr[parameter]
    transform = Transform.for_parameter(parameter, x_hat)
    z_hat = float(transform.forward(x_hat))
    slope = abs(float(transform.derivative(z_hat)))  # dx/dz at the optimum
    se_z = se / slope if np.isfinite(se) and se > 0 and slope > 0 else 2.0 / span
    # At most 5 units of the transformed space either side (a factor e^5 ~ 150 for a rate):
    # a standard error wider than that (a nearly undetermined parameter) would put grid
    # points where the parameter overflows.
    se_z = min(se_z, 5.0 / span)
    half = int(points) // 2
    z = z_hat + se_z * span * np.linspace(-1.0, 1.0, int(points))
    values = np.array([float(transform.inverse(v)) for v in z])
    loss = np.full(z.size, np.nan)
    refit = {n: np.full(z.size, np.nan) for n in others}
    loss[half] = full.loss
    for n in others:
        refit[n][half] = full.values[n]
    bar = _bar(progress, z.size - 1, parameter)
    for side in (range(half + 1, z.size), range(half - 1, -1, -1)):
        start = full.params
        for i in side:
            p_i = start.replace(**{parameter: values[i]})
            try:
                if others or per_sample:
                    res = fit(data, assembly, p_i, others, **opts)
                    loss[i], start = res.loss, res.params
                    for n in others:
                        refit[n][i] = res.values[n]
                else:
                    loss[i] = _loss_at(data, assembly, p_i, parameter, opts)
            except SolverError:
                pass  # the model cannot be solved there: a gap (NaN) in the profile
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    s2 = full.loss / max(full.n_data - len(full.columns) - len(full.collection_factor), 1)
    chi2 = (loss - min(full.loss, np.nanmin(loss))) / s2
    intervals = {}
    for name, q in CHI2_QUANTILES.items():
        lo, hi = likelihood_interval(z, chi2, q)
        intervals[name] = tuple(None if b is None else float(transform.inverse(b))
                                for b in (lo, hi))
    laplace = tuple(float(transform.inverse(z_hat + s * 1.959963984540054 * se_z))
                    for s in (-1.0, 1.0)) if np.isfinite(se) else (None, None)
    return ProfileResult(parameter, values, loss, chi2, refit, x_hat, se, s2,
                         intervals["ci68"], intervals["ci95"], laplace,
                         flat=bool(np.nanmax(chi2) < 1.0),
                         identifiable=all(b is not None for b in intervals["ci95"]))


def _loss_at(data, assembly, p, parameter, opts) -> float:
    """The loss with nothing re-fitted (a one-parameter profile)."""
    setup = fit_problem_of(data, assembly, p, [parameter], [], opts)
    r, _ = setup.evaluate(setup.z0)
    return float(np.sum(r**2))


def _bar(progress: bool, total: int, name: str):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"profile {name}", unit="fit", disable=None)
