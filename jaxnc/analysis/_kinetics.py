"""Kinetics analysis as in the paper: rate laws fitted to each dark decay, then Arrhenius.

Laws for the PLQY `y(t)` during a dark step, `t` from the step's first point:

- `pso` (pseudo-second-order, Ho & McKay): `y = y_inf + d0 / (1 + k d0 t)`, `d0 = y0 - y_inf`;
  `k` in 1/h per unit PLQY fraction.
- `first-order`: `y = y_inf + d0 exp(-k t)`; `k` in 1/h.

Each law is fitted by Levenberg–Marquardt (optimistix) with the Jacobian from `jax.jacfwd`;
standard errors from the Gauss–Newton covariance `s^2 (J^T J)^-1` (infinite where the data do
not determine `k`; none where the fit did not converge, which is flagged). The Arrhenius line
`ln k = ln A - Ea/(R T)` is a weighted least-squares fit with weights `1/var(ln k)`, its
covariance scaled by the reduced chi-square. AIC per fit: `n ln(RSS/n) + 2 p`.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from ..data import Dataset, combine_datasets
from ..errors import DataError
from ._least_squares import gauss_newton_covariance

__all__ = ["LAWS", "DecayFit", "KineticsResult", "fit_decay", "arrhenius_fit", "kinetics"]

R_KJ_MOL_K = 8.314462618e-3


def _pso(z, t):
    y_inf, d0, log_k = z
    return y_inf + d0 / (1.0 + jnp.exp(log_k) * d0 * t)


def _first_order(z, t):
    y_inf, d0, log_k = z
    return y_inf + d0 * jnp.exp(-jnp.exp(log_k) * t)


LAWS = {"pso": _pso, "first-order": _first_order}
"""Rate law name -> `f(z, t)` with `z = (y_inf, d0, log k)`: `pso` and `first-order`."""


@dataclasses.dataclass(frozen=True)
class DecayFit:
    """A rate law fitted to one decay: `k`, its standard error, `y0`, `y_inf`, RSS, AIC, and
    whether Levenberg–Marquardt converged (if not, `k_stderr` is NaN: the point is no
    optimum, so the Gauss–Newton covariance means nothing there)."""

    law: str
    k: float
    k_stderr: float
    y0: float
    y_inf: float
    rss: float
    aic: float
    n: int
    converged: bool = True


@functools.partial(jax.jit, static_argnums=(0, 4))
def _least_squares(law: str, z0, t, y, max_steps: int):
    """Levenberg–Marquardt fit of `law`; returns parameters, residuals, their Jacobian and
    whether the solve converged."""
    f = LAWS[law]

    def residual(z, args):
        tt, yy = args
        return f(z, tt) - yy

    sol = optx.least_squares(residual, optx.LevenbergMarquardt(rtol=1e-10, atol=1e-12), z0,
                             args=(t, y), max_steps=max_steps, throw=False)
    z = sol.value
    converged = sol.result == optx.RESULTS.successful
    return z, residual(z, (t, y)), jax.jacfwd(residual)(z, (t, y)), converged


def fit_decay(time_h, plqy, law: str = "pso", *, max_steps: int = 2000) -> DecayFit:
    """Fit `law` to one decay curve (time from 0 at the start of the dark step, PLQY fraction).

    `max_steps`: Levenberg–Marquardt iterations allowed; a fit that needs more is returned
    with `converged=False` and no standard error.

    **Raises:** `DataError` if there are fewer than 4 points or the curve does not decay.
    """
    if law not in LAWS:
        raise DataError(f"unknown rate law {law!r}; choose one of {', '.join(LAWS)}")
    t = np.asarray(time_h, dtype=float) - float(time_h[0])
    y = np.asarray(plqy, dtype=float)
    if len(t) < 4:
        raise DataError(f"a {law} fit needs at least 4 points, got {len(t)}")
    y_inf0 = float(y.min()) - 0.05 * float(np.ptp(y) + 1e-12)
    d0 = float(y[0]) - y_inf0
    if d0 <= 0:
        raise DataError("the PLQY does not decay over this dark step")
    # Starting k from the half-decay time.
    half = np.nonzero(y - y_inf0 <= d0 / 2)[0]
    t_half = float(t[half[0]]) if half.size and t[half[0]] > 0 else float(t[-1]) / 2
    k0 = 1.0 / (d0 * t_half) if law == "pso" else np.log(2.0) / t_half
    z0 = jnp.asarray([y_inf0, d0, np.log(k0)])
    z, res, jac, converged = _least_squares(law, z0, jnp.asarray(t), jnp.asarray(y),
                                            int(max_steps))
    z, res, jac, converged = np.asarray(z), np.asarray(res), np.asarray(jac), bool(converged)
    n, p = len(t), 3
    rss = float(res @ res)
    s2 = rss / max(n - p, 1)
    # The Jacobian is exact (the law is closed-form): resolve to near float64 round-off.
    cov, _, _ = gauss_newton_covariance(jac, s2, resolution=1e-8)
    k = float(np.exp(z[2]))
    return DecayFit(
        law=law,
        k=k,
        k_stderr=(float(k * np.sqrt(max(cov[2, 2], 0.0)))  # d k = k d(log k)
                  if converged else float("nan")),
        converged=converged,
        y0=float(z[0] + z[1]),
        y_inf=float(z[0]),
        rss=rss,
        aic=float(n * np.log(max(rss, 1e-300) / n) + 2 * p),
        n=n,
    )


def arrhenius_fit(temperature_k, k, k_stderr) -> dict:
    """Weighted fit of `ln k = ln A - Ea/(R T)`.

    **Returns:** dict with `Ea_kj_mol`, `Ea_stderr_kj_mol`, `ln_A`, `ln_A_stderr`.
    """
    temperature_k = np.asarray(temperature_k, dtype=float)
    if len(np.unique(temperature_k)) < 2:
        raise DataError("an Arrhenius fit needs decays at two or more temperatures")
    ln_k = np.log(np.asarray(k, dtype=float))
    sigma = np.asarray(k_stderr, dtype=float) / np.asarray(k, dtype=float)
    w = 1.0 / np.maximum(sigma, 1e-12) ** 2
    x = np.column_stack([np.ones_like(temperature_k), -1.0 / (R_KJ_MOL_K * temperature_k)])
    xtw = x.T * w
    cov = np.linalg.inv(xtw @ x)
    beta = cov @ (xtw @ ln_k)
    dof = len(ln_k) - 2
    if dof > 0:
        chi2 = float(np.sum(w * (ln_k - x @ beta) ** 2)) / dof
        cov = cov * max(chi2, 1.0)
    return dict(
        Ea_kj_mol=float(beta[1]),
        Ea_stderr_kj_mol=float(np.sqrt(cov[1, 1])),
        ln_A=float(beta[0]),
        ln_A_stderr=float(np.sqrt(cov[0, 0])),
    )


@dataclasses.dataclass(frozen=True)
class KineticsResult:
    law: str
    fits: list[tuple[str, float, DecayFit]]  # (sample, temperature_k, fit)
    arrhenius: dict | None

    def to_json(self) -> dict:
        return dict(
            law=self.law,
            rate_constant_units="1/h per PLQY fraction" if self.law == "pso" else "1/h",
            rate_constants=[
                dict(sample=s, temperature_k=temp, k=f.k, stderr=f.k_stderr, plqy0=f.y0,
                     plqy_inf=f.y_inf, rss=f.rss, aic=f.aic, n=f.n, converged=f.converged)
                for s, temp, f in self.fits
            ],
            aic_total=float(sum(f.aic for _, _, f in self.fits)),
            **(self.arrhenius or {}),
        )


def _dark_segments(curve):
    """The first dark stretch of a curve: rows with light == 0 (all rows if no light column)."""
    if curve.light is None:
        return np.arange(len(curve))
    dark = np.nonzero(curve.light == 0)[0]
    if dark.size == 0:
        return dark
    # The first contiguous run of dark rows.
    breaks = np.nonzero(np.diff(dark) > 1)[0]
    return dark[: breaks[0] + 1] if breaks.size else dark


def kinetics(data: Dataset | list[Dataset], law: str = "pso") -> KineticsResult:
    """Fit `law` to the dark decay of every sample, then Arrhenius over their temperatures.

    A sample's temperature is its `temperature_k` column (constant over the decay); without
    that column, no Arrhenius fit is made.

    **Raises:** `DataError` for a sample with no dark rows, a temperature that changes
    during a decay, or too few points.
    """
    if isinstance(data, (list, tuple)):  # several files: one dataset, by sample
        data = combine_datasets(data)
    fits = []
    for c in data.curves:
        idx = _dark_segments(c)
        idx = idx[np.isfinite(c.plqy[idx])]  # rows without a PLQY value: not measured
        if idx.size == 0:
            raise DataError(f"{data.source}: sample {c.sample!r} has no dark rows (light == 0) "
                            f"with a PLQY value")
        temp = float("nan")
        if c.temperature_k is not None:
            temps = c.temperature_k[idx]
            if np.ptp(temps) > 1e-6:
                raise DataError(f"{data.source}: sample {c.sample!r}: temperature_k changes "
                                f"during the dark decay")
            temp = float(temps[0])
        try:
            fit = fit_decay(c.time_h[idx], c.plqy[idx], law)
        except DataError as e:
            raise DataError(f"{data.source}: sample {c.sample!r}: {e}") from None
        fits.append((c.sample, temp, fit))
    # Arrhenius over the decays that converged with a finite standard error (its weights).
    usable = [(t, f) for _, t, f in fits if np.isfinite(t) and np.isfinite(f.k_stderr)]
    arr = None
    if len({t for t, _ in usable}) >= 2:
        arr = arrhenius_fit([t for t, _ in usable], [f.k for _, f in usable],
                            [f.k_stderr for _, f in usable])
    return KineticsResult(law=law, fits=fits, arrhenius=arr)
