"""`sample()`: the posterior of a fit's parameters by the No-U-Turn sampler through the solver.

The posterior lives in the fit's transformed space `z` (log for rates, logit for fractions):

    log p(z | data) = log L(z) + sum_i log prior_i(z_i)

with Gaussian residuals of one standard deviation `sigma` (PLQY fraction; lifetime residuals
enter weighted by `lifetime_weight_per_ns`, as in [`fit`][]). With `noise_plqy` given,
`log L = -S(z) / (2 sigma^2)`, `S` the sum of squared residuals; without it `sigma` is
integrated out under Jeffreys' prior `p(sigma) ~ 1/sigma`, which gives
`log L = -(n/2) log S(z)` for `n` residuals: the noise need not be known.

Gradients come from the same forward sensitivities as the fit's Jacobian
(`ResidualProblem.residuals_and_jacobian`): `grad log L = -J^T r / sigma^2` (or `-n J^T r / S`), one
solve with `P` tangents per leapfrog step, cheaper than reverse mode through an adaptive
solve for the few parameters of a fit. A proposal where the model cannot be solved has
log density -inf: NUTS counts it as a divergence and rejects it.

blackjax provides the NUTS transition (a pure JAX sampler that takes any log density, so the
solver stays jaxnc's; numpyro's NUTS needs its own model language); the warm-up and the
chains' loop are jaxnc's (`_nuts`), for checkpoints and a progress bar.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from ..analysis import gauss_newton_covariance
from ..data import combine_datasets
from ..errors import ParameterError
from ..fitting import check_fit_arguments, fit, fit_problem_of, problem_digest
from ..runtime import atomic_path, json_safe
from ._diagnostics import ess_bulk, ess_tail, rhat
from ._nuts import run_chains
from ._priors import resolve_priors

__all__ = ["PosteriorResult", "sample"]

_QUANTILES = dict(ci68=(0.158655, 0.841345), ci90=(0.05, 0.95), ci95=(0.025, 0.975))


@dataclasses.dataclass
class PosteriorResult:
    """Posterior draws and their summary.

    **Fields:** `columns` (labels: `name`, or `name[sample]` for a per-sample parameter);
    `draws` (`(chains, draws, len(columns))`, natural units) and `z_draws` (the same in the
    transformed space); `summary` (`{label: {median, mean, sd, ci68, ci90, ci95, rhat,
    ess_bulk, ess_tail}}`, intervals as equal-tailed credible intervals); `divergences`
    (after the warm-up), `warmup_divergences`; `step_size`, `inverse_mass` (per chain, as
    adapted); `acceptance` (mean), `tree_steps` (mean leapfrog steps per draw); `priors`
    (`{name: Prior}`); `noise_plqy` (given, or None: integrated out); `logdensity` and
    `divergent` (`(chains, draws)`); `start` (the [`FitResult`][jaxnc.fitting.FitResult] the
    chains started from); `timing` (seconds: `first_chunk_s` holds the compilation,
    `warmup_s`, `sampling_s`); `settings`.
    """

    columns: list
    draws: np.ndarray
    z_draws: np.ndarray
    summary: dict
    divergences: int
    warmup_divergences: int
    step_size: np.ndarray
    inverse_mass: np.ndarray
    acceptance: float
    tree_steps: float
    priors: dict
    noise_plqy: float | None
    logdensity: np.ndarray
    divergent: np.ndarray
    start: object
    timing: dict
    settings: dict

    @property
    def rhat_max(self) -> float:
        return float(np.nanmax([s["rhat"] for s in self.summary.values()]))

    @property
    def ess_bulk_min(self) -> float:
        return float(np.nanmin([s["ess_bulk"] for s in self.summary.values()]))

    def to_json(self) -> dict:
        return json_safe(dict(
            parameters=self.summary, divergences=self.divergences,
            warmup_divergences=self.warmup_divergences,
            step_size=self.step_size.tolist(), acceptance=self.acceptance,
            tree_steps=self.tree_steps, rhat_max=self.rhat_max,
            ess_bulk_min=self.ess_bulk_min,
            priors={k: p.to_json() for k, p in self.priors.items()},
            noise_plqy=self.noise_plqy if self.noise_plqy is not None else "integrated out",
            timing=self.timing, settings=self.settings,
            fit=dict(values=self.start.values, stderr=self.start.stderr,
                     sample_values=self.start.sample_values, loss=self.start.loss)))

    def save_draws(self, path) -> None:
        """The draws as `.npz` (written whole): `columns`, `draws` (natural units), `z_draws`,
        `logdensity`, `divergent`, all `(chains, draws, ...)`."""
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, columns=np.asarray(self.columns), draws=self.draws,
                     z_draws=self.z_draws, logdensity=self.logdensity,
                     divergent=self.divergent)

    def lines(self) -> list[str]:
        """A table for the screen: median, 95 % interval, R-hat and bulk ESS per column."""
        out = [f"{'parameter':30s} {'median':>11s} {'95 % interval':>25s} {'R-hat':>6s} "
               f"{'ESS':>6s}"]
        for label, s in self.summary.items():
            lo, hi = s["ci95"]
            out.append(f"{label:30s} {s['median']:11.4g} [{lo:11.4g}, {hi:11.4g}] "
                       f"{s['rhat']:6.3f} {s['ess_bulk']:6.0f}")
        out.append(f"divergences {self.divergences}, step size "
                   f"{float(np.median(self.step_size)):.3g}, acceptance {self.acceptance:.2f}, "
                   f"{self.tree_steps:.1f} leapfrog steps per draw")
        return out


def _log_likelihood_and_grad(problem, z, n_resid, noise):
    r, jac, _ = problem.residuals_and_jacobian(z)
    s = jnp.sum(r**2)
    jtr = jac.T @ r
    known = noise > 0
    sigma2 = jnp.where(known, noise, 1.0) ** 2
    value = jnp.where(known, -0.5 * s / sigma2, -0.5 * n_resid * jnp.log(s))
    grad = jnp.where(known, -jtr / sigma2, -n_resid * jtr / s)
    ok = jnp.isfinite(value) & jnp.all(jnp.isfinite(grad))
    return jnp.where(ok, value, -jnp.inf), jnp.where(ok, grad, 0.0)


def _posterior_logdensity(operands):
    """The log density of a position `z` (module docstring); its gradient from the forward
    sensitivities, through `custom_vjp`."""
    problem, prior_mu, prior_precision, n_resid, noise = operands

    @jax.custom_vjp
    def log_likelihood(z):
        return _log_likelihood_and_grad(problem, z, n_resid, noise)[0]

    def fwd(z):
        value, grad = _log_likelihood_and_grad(problem, z, n_resid, noise)
        return value, grad

    log_likelihood.defvjp(fwd, lambda grad, ct: (ct * grad,))
    return lambda z: log_likelihood(z) - 0.5 * jnp.sum(prior_precision * (z - prior_mu) ** 2)


def sample(data, assembly, params, free, model: str = "mean_field", *, per_sample=(),
           priors: dict | None = None, noise_plqy: float | None = None, chains: int = 4,
           warmup: int = 500, draws: int = 1000, seed: int = 0, start=None,
           target_accept: float = 0.8, max_doublings: int = 10, metric: str = "dense",
           protocol=None, irradiance_mw_cm2: float = 10.0,
           lifetime_weight_per_ns: float | None = None, noise: dict | None = None,
           rtol: float | None = None, atol: float | None = None, max_steps: int = 16384,
           progress: bool = True, checkpoint=None, chunk: int = 25,
           resume: bool = False) -> PosteriorResult:
    """Draw from the posterior of `free` (and `per_sample`) parameters given PLQY curves.

    **Arguments:**

    - `data`, `assembly`, `params`, `free`, `model`, `per_sample`, `protocol`,
      `irradiance_mw_cm2`, `lifetime_weight_per_ns`, `noise`, `rtol`, `atol`, `max_steps`:
      as in [`fit`][] (`free="auto"`: the fit chooses; several kinds of data are weighted by
      their noises, and the collection factors of PL intensities are profiled out: solved
      exactly at every draw's parameters).
    - `priors`: `{name: Prior or "normal:MEDIAN,SD" or "flat"}` overriding the defaults
      derived from each parameter's source (`jaxnc.inference.default_prior`).
    - `noise_plqy`: the residuals' standard deviation (PLQY fraction, the unit of every
      kind's weighted residuals) if known; default: integrated out (Jeffreys' prior).
    - `chains`, `warmup`, `draws`, `seed`: chains run side by side (`vmap`), warm-up steps
      (discarded), draws kept per chain; the seed makes the run reproducible.
    - `start`: the [`FitResult`][jaxnc.fitting.FitResult] to start from; default: [`fit`][]
      is run first. The chains start at its optimum plus a draw from its Laplace
      (Gauss-Newton) approximation, which also gives the first mass matrix.
    - `target_accept`: the warm-up's target acceptance (raise to 0.9-0.95 on divergences);
      `max_doublings`: at most `2^max_doublings` leapfrog steps per draw; `metric`:
      `"dense"` (default: the mass matrix is the posterior's covariance, which follows the
      strong correlations of kinetic rates; a fit has few parameters) or `"diag"`.
    - `progress`: a tqdm bar. `checkpoint`: a `.npz` saved every `chunk` steps and on Ctrl-C;
      `resume=True` continues from it, along the same path as an uninterrupted run.

    **Returns:** a [`PosteriorResult`][].
    """

    if isinstance(data, (list, tuple)):  # several files: one dataset, by sample
        data = combine_datasets(data)
    per_sample = list(per_sample)
    _check_options(chains, draws, warmup, target_accept, noise_plqy, metric)
    options = dict(model=model, per_sample=per_sample, protocol=protocol,
                   irradiance_mw_cm2=irradiance_mw_cm2,
                   lifetime_weight_per_ns=lifetime_weight_per_ns, noise=noise, rtol=rtol,
                   atol=atol, max_steps=max_steps)
    if not isinstance(free, str):  # a bad prior is refused before the fit, not after
        resolve_priors(list(free) + per_sample, priors)
    if start is None:
        start = fit(data, assembly, params, free, starts=1, progress=progress, **options)
    elif list(start.per_sample) != per_sample:
        raise ParameterError(f"start was fitted with per_sample {start.per_sample}, "
                             f"not {per_sample}")
    post = _Posterior.at(data, assembly, start, priors, noise_plqy, options)
    positions, inverse_mass = post.initial_chains(int(chains), seed, metric)
    tag = dict(columns=post.columns, z_hat=post.z_hat.round(12).tolist(),
               mu=post.mu.round(12).tolist(), noise=noise_plqy, target=target_accept,
               doublings=max_doublings, metric=metric, problem=problem_digest(data, post.setup))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=int(warmup) + int(draws), desc=f"NUTS {chains} chains", unit="step",
                   disable=None)
    t0 = time.perf_counter()
    try:
        out = run_chains(_posterior_logdensity, post.operands, positions, inverse_mass,
                         warmup=int(warmup), draws=int(draws), seed=int(seed),
                         target=float(target_accept), max_doublings=int(max_doublings),
                         chunk=int(chunk), progress=bar, checkpoint=checkpoint, tag=tag,
                         resume=resume, fallback=post.z_hat)
    finally:
        if bar is not None:
            bar.close()
    timing = dict(out.pop("timing"), total_s=time.perf_counter() - t0)
    settings = dict(chains=int(chains), warmup=int(warmup), draws=int(draws), seed=int(seed),
                    target_accept=target_accept, max_doublings=int(max_doublings),
                    metric=metric, model=post.setup.problem.model.name, free=list(start.free),
                    per_sample=per_sample, n_residuals=post.n_resid)
    return post.result(out, start, noise_plqy, timing, settings)


def _check_options(chains, draws, warmup, target_accept, noise_plqy, metric) -> None:
    """Refuse chain counts, lengths and settings the sampler cannot use."""
    if int(chains) < 2 or int(draws) < 4:
        raise ParameterError(f"need chains >= 2 (R-hat compares chains) and draws >= 4 (ESS "
                             f"needs them); got chains {chains}, draws {draws}")
    if int(warmup) < 0 or not 0 < target_accept < 1 or noise_plqy is not None and \
            not noise_plqy > 0:
        raise ParameterError(f"need warmup >= 0, 0 < target_accept < 1 and noise_plqy > 0; "
                             f"got {warmup}, {target_accept}, {noise_plqy}")
    if metric not in ("dense", "diag"):
        raise ParameterError(f"metric must be 'dense' or 'diag', got {metric!r}")
    if jax.process_count() > 1:
        raise ParameterError("sampling runs in one process (chains side by side on its "
                             "devices); run it without --distributed")


@dataclasses.dataclass
class _Posterior:
    """The posterior the chains sample: the fit problem at the start's optimum, the columns'
    transforms, the optimum `z_hat`, the priors (`mu`, `precision` in the transformed space)
    and the log density's operands."""

    setup: object
    transforms: list
    columns: list
    z_hat: np.ndarray
    prior: dict
    mu: np.ndarray
    precision: np.ndarray
    n_resid: int
    operands: tuple

    @classmethod
    def at(cls, data, assembly, start, priors, noise_plqy, options) -> _Posterior:
        free, per_sample = list(start.free), options["per_sample"]
        check_fit_arguments(free + per_sample, "lm", 1, 1)
        setup = fit_problem_of(data, assembly, start.params, free, per_sample, options)
        problem = setup.problem
        transforms = (list(problem.transforms)
                      + list(problem.sample_transforms) * len(setup.samples))
        names = free + [n for _ in setup.samples for n in per_sample]
        natural = [start.values[n] for n in free] + [
            start.sample_values[s][n] for s in setup.samples for n in per_sample]
        z_hat = np.array([float(t.forward(x)) for t, x in zip(transforms, natural,
                                                                strict=True)])
        prior = resolve_priors(free + per_sample, priors)
        mu, precision = (np.array(v) for v in zip(*(prior[n].gaussian(t) for n, t in
                                                      zip(names, transforms, strict=True)),
                                                    strict=True))
        n_resid = setup.n_data - int(setup.extra_samples.size)  # less the collection factors
        operands = (problem, jnp.asarray(mu), jnp.asarray(precision),
                    jnp.asarray(float(n_resid)),
                    jnp.asarray(0.0 if noise_plqy is None else float(noise_plqy)))
        # The fit's order of columns: global, then per sample.
        return cls(setup, transforms, list(start.columns), z_hat, prior, mu, precision,
                   n_resid, operands)

    def initial_chains(self, chains: int, seed: int, metric: str):
        """Starting positions (the optimum plus a draw from the Laplace approximation) and
        the first inverse mass matrices (its covariance, or its diagonal)."""
        cov = _start_covariance(self.setup, self.z_hat, self.n_resid, self.precision)
        rng = np.random.default_rng(seed)
        chol = np.linalg.cholesky(cov + 1e-12 * np.eye(self.z_hat.size))
        positions = self.z_hat + rng.standard_normal((chains, self.z_hat.size)) @ chol.T
        first_mass = cov if metric == "dense" else np.clip(np.diag(cov), 1e-8, 1e2)
        return positions, np.broadcast_to(first_mass, (chains, *first_mass.shape))

    def result(self, out, start, noise_plqy, timing, settings) -> PosteriorResult:
        """The chains' records as a [`PosteriorResult`][] (draws in natural units too)."""
        z_draws = out["position"]
        x_draws = np.stack([np.asarray(t.inverse(z_draws[..., i]))
                            for i, t in enumerate(self.transforms)], axis=-1)
        return PosteriorResult(
            columns=self.columns, draws=x_draws, z_draws=z_draws,
            summary={c: _summarise(x_draws[..., i]) for i, c in enumerate(self.columns)},
            divergences=int(out["divergent"].sum()),
            warmup_divergences=int(out["warmup_divergent"].sum()),
            step_size=out["final_step_size"], inverse_mass=out["inverse_mass"],
            acceptance=float(out["acceptance"].mean()), tree_steps=float(out["steps"].mean()),
            priors=self.prior, noise_plqy=noise_plqy, logdensity=out["logdensity"],
            divergent=out["divergent"], start=start, timing=timing, settings=settings)


def _start_covariance(setup, z_hat, n_resid, precision) -> np.ndarray:
    """The Laplace covariance at the fit's optimum (transformed space), where the data
    determine a direction; the prior's variance (or 1) where they do not."""
    r, jac = setup.evaluate(z_hat)
    setup.raise_if_failed("the posterior's starting point (the fit's optimum)")
    s2 = float(r @ r) / max(n_resid - z_hat.size, 1)
    cov, undetermined, _ = gauss_newton_covariance(jac, s2, 10.0 * float(
        setup.problem.settings.rtol))
    fallback = np.where(precision > 0, 1.0 / np.where(precision > 0, precision, 1.0), 1.0)
    for i in undetermined:
        cov[i, :] = cov[:, i] = 0.0
        cov[i, i] = fallback[i]
    return cov


def _summarise(x: np.ndarray) -> dict:
    """Median, mean, sd, equal-tailed intervals and diagnostics of `(chains, draws)`."""
    flat = x.ravel()
    out = dict(median=float(np.median(flat)), mean=float(flat.mean()), sd=float(flat.std()))
    for name, (lo, hi) in _QUANTILES.items():
        out[name] = [float(v) for v in np.quantile(flat, [lo, hi])]
    out.update(rhat=rhat(x), ess_bulk=ess_bulk(x), ess_tail=ess_tail(x))
    return out
