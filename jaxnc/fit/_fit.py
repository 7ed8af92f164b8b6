"""Gradient-based fitting of model parameters to measured PLQY curves.

Free parameters are optimised in a transformed space (log for rates and other positive values,
logit for fractions, scaled identity for signed ones), by default with Levenberg–Marquardt on
the residuals, whose Jacobian comes from forward-mode differentiation through the ODE solver
(never finite differences); optax Adam then L-BFGS on reverse-mode gradients is the
alternative. Curves that share an assembly and a step sequence are solved as one `vmap`ped
batch. Standard errors and correlations come from the Gauss–Newton (Laplace) approximation
`s^2 (J^T J)^-1` at the optimum, mapped to natural units by the delta method.
"""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._errors import DataError, ParameterError
from .._io import atomic_path
from ..geometry import Assembly
from ..parameters import PARAMETER_INFO, Parameters
from ..protocol import Protocol
from ._data import Dataset
from ._problem import _loss, _residuals_and_jacobian, _setup
from ._protocols import protocol_from_curve
from ._result import FitResult
from ._transforms import Transform
from ._uncertainty import _laplace

__all__ = ["FitResult", "fit", "protocol_from_curve", "Transform"]


# ---------------------------------------------------------------------------- optimisers
METHODS = ("lm", "adam-lbfgs")


MAX_STEP = 2.0


def _lm_iteration(evaluate, run, cache, *, ftol, xtol, gtol):
    """One Levenberg–Marquardt iteration (Nielsen's damping update); one evaluation.

    `cache` holds residuals and Jacobian at `run["z"]`. Returns the new cache and whether the
    run has converged.
    """
    z = np.asarray(run["z"])
    mu, nu = (float(v) for v in run["state"])
    r, jac = cache
    loss = float(r @ r)
    grad = jac.T @ r
    a = jac.T @ jac
    d = np.diag(a).copy()
    d = np.maximum(d, 1e-8 * max(d.max(), 1e-300))  # Marquardt scaling, kept positive
    if not np.isfinite(mu):
        mu = 1e-3 * d.max()
    if np.max(np.abs(grad)) <= gtol:
        return cache, True
    h = np.linalg.solve(a + mu * np.diag(d), -grad)
    # Along directions the data hardly constrain, the step can be huge: cap it (in the
    # transformed space, MAX_STEP = 2 is a factor e^2 ~ 7 on a rate) to stay where the solver
    # works; the gain ratio then judges the shortened step like any other.
    h *= min(1.0, MAX_STEP / max(np.max(np.abs(h)), 1e-300))
    small = np.linalg.norm(h) <= xtol * (np.linalg.norm(z) + xtol)
    r_new, jac_new = evaluate(z + h)
    loss_new = float(r_new @ r_new)
    predicted = -(2 * h @ grad + h @ a @ h)
    if np.isfinite(loss_new) and loss_new < loss and predicted > 0:
        rho = (loss - loss_new) / predicted
        mu *= max(1 / 3, 1 - (2 * rho - 1) ** 3)
        run.update(z=z + h, state=np.array([mu, 2.0]), loss=loss_new)
        return (r_new, jac_new), bool(small or loss - loss_new <= ftol * loss)
    run.update(state=np.array([mu * nu, 2 * nu]), loss=loss)
    # Rejected: converged when even the linear model promises no gain worth having.
    return cache, bool(small or predicted <= ftol * loss or mu * nu > 1e20)


@functools.lru_cache(maxsize=8)
def _optax_steps(learning_rate: float):
    """Jitted Adam and L-BFGS steps (cached, so repeated fits reuse their compilation)."""
    adam = optax.adam(learning_rate)
    lbfgs = optax.lbfgs()

    @eqx.filter_jit
    def adam_step(problem, z, state):
        value, grad = jax.value_and_grad(problem.loss)(z)
        updates, state = adam.update(grad, state, z)
        return optax.apply_updates(z, updates), state, value

    @eqx.filter_jit
    def lbfgs_step(problem, z, state):
        value, grad = optax.value_and_grad_from_state(problem.loss)(z, state=state)
        updates, state = lbfgs.update(grad, state, z, value=value, grad=grad,
                                      value_fn=problem.loss)
        return (optax.apply_updates(z, updates), state, value,
                optax.tree_utils.tree_norm(grad))

    return adam, lbfgs, adam_step, lbfgs_step


# ------------------------------------------------------------------------------ the fit
def fit(
    data: Dataset,
    assembly: Assembly | dict,
    params: Parameters,
    free: list[str],
    model: str = "mean_field",
    *,
    per_sample: list[str] = (),
    protocol: Protocol | str | None = None,
    irradiance_mw_cm2: float = 10.0,
    lifetime_weight_per_ns: float = 0.01,
    method: str = "lm",
    starts: int = 1,
    seed: int = 0,
    start_spread: float = 0.7,
    max_iter: int = 100,
    ftol: float = 1e-10,
    xtol: float = 1e-10,
    gtol: float = 1e-12,
    warmup_steps: int = 30,
    learning_rate: float = 0.05,
    rtol: float | None = None,
    atol: float | None = None,
    progress: bool = True,
    checkpoint=None,
    checkpoint_every: int = 10,
    resume: bool = False,
    callback=None,
) -> FitResult:
    """Fit model parameters to PLQY curves: one curve, several jointly, or a batch.

    All curves share the global `free` parameters; `per_sample` parameters get one value per
    sample (e.g. `coverage_initial`). Curves with the same assembly and step sequence are solved
    as one `vmap`ped, jit-compiled batch (the GPU training run); the compiled residual function
    is reused by later fits of the same structure.

    **Arguments:**

    - `data`: a [`Dataset`][] (one curve per sample).
    - `assembly`: an [`Assembly`][] for every curve, or `{sample: Assembly}` for joint fits of
      different assemblies (e.g. supercrystal + isolated cubes).
    - `params`: starting values (and the fixed ones).
    - `free`: global parameters to fit (see `Parameters.names()`); `per_sample`: parameters
      fitted per sample.
    - `model`: `"mean_field"` (default, fast) or `"field"`.
    - `protocol`: one protocol for every curve; default: from each curve's `light` and
      `temperature_k` columns, light at `irradiance_mw_cm2` (mW/cm²) and 468 nm.
    - `lifetime_weight_per_ns`: where the data have a `lifetime_ns` column, its residuals
      (ns) enter the loss multiplied by this weight (PLQY fraction per ns): the default 0.01
      counts 1 ns of lifetime misfit like 1 PLQY point, about the ratio of typical measurement
      errors. 0 ignores lifetimes.
    - `method`: `"lm"` (default): Levenberg–Marquardt on the residuals with their Jacobian by
      forward-mode differentiation through the solver (one compiled function, one
      evaluation per iteration; best for up to ~10 parameters per sample); `"adam-lbfgs"`:
      `warmup_steps` of optax Adam (`learning_rate`) then optax L-BFGS on reverse-mode
      gradients. Neither uses finite differences. Parameters are optimised in a transformed
      space: log for positive values, logit for fractions, scaled for signed ones.
    - `starts`, `seed`, `start_spread`: multi-start. Start 0 is `params`; the others are drawn
      around it in the transformed space (normal, standard deviation `start_spread`, i.e.
      about a factor of 2 for rates) from `seed`. The best final loss wins.
    - `max_iter`: iterations per start (for `"adam-lbfgs"`: L-BFGS iterations after the
      warm-up). `ftol`, `xtol`: stop when an accepted step lowers the loss by less than `ftol`
      relative or moves the transformed parameters by less than `xtol` relative; `gtol`: stop
      when the gradient's largest entry (L-BFGS: norm) is below it.
    - `rtol`, `atol`: ODE tolerances (default: the solver's, see `jaxnc.solve.default_tolerances`).
    - `progress`: tqdm bar with the current loss (on a terminal only).
    - `checkpoint`: a `.npz` file where the optimiser state is saved every `checkpoint_every`
      iterations, on Ctrl-C (then `KeyboardInterrupt` is re-raised) and at the end, written
      whole; with `resume=True` the fit continues from it along the same path as an
      uninterrupted fit.
    - `callback`: called as `callback(iteration, loss)` after every completed iteration.

    **Returns:** a [`FitResult`][].

    **Raises:** `ParameterError` for an unknown, repeated or badly started parameter;
    `DataError` for data the protocol cannot explain or a sample without an assembly.
    """
    free, per_sample = list(free), list(per_sample)
    names = free + per_sample
    unknown = [n for n in names if n not in PARAMETER_INFO]
    if unknown or not names:
        raise ParameterError(f"free parameters {unknown or '[]'} unknown or empty; known: "
                             f"{', '.join(PARAMETER_INFO)}")
    if len(set(names)) != len(names):
        raise ParameterError(f"free and per-sample parameters repeat a name: {names}")
    if method not in METHODS:
        raise ParameterError(f"method {method!r} unknown; use one of {', '.join(METHODS)}")
    if int(starts) < 1 or int(max_iter) < 1:
        raise ParameterError(f"starts ({starts}) and max_iter ({max_iter}) must be >= 1")
    setup = _setup(data, assembly, params, free, per_sample, model, protocol,
                   irradiance_mw_cm2, lifetime_weight_per_ns, rtol, atol)
    problem, z0, is_plqy = setup.problem, setup.z0, setup.is_plqy
    samples, protocols, lifetimes = setup.samples, setup.protocols, setup.lifetimes
    n_lifetimes, protocol = setup.n_lifetimes, setup.protocol
    rng = np.random.default_rng(seed)
    initial = [z0] + [z0 + start_spread * rng.standard_normal(z0.size)
                      for _ in range(int(starts) - 1)]
    n_points = int(sum(len(c) for c in data.curves))

    def evaluate(z):
        try:
            r, jac = _residuals_and_jacobian(problem, jnp.asarray(z))
        except eqx.EquinoxRuntimeError:
            # A solver check failed inside the compiled solve (e.g. non-finite input to a
            # linear solve at a wild trial point): a failed evaluation, rejected by the
            # optimiser like a failed integration.
            return np.full(is_plqy.size, np.nan), np.full((is_plqy.size, problem.size), np.nan)
        return np.asarray(r), np.asarray(jac)

    t_start = time.perf_counter()
    adam, lbfgs, adam_step, lbfgs_step = _optax_steps(float(learning_rate))
    fresh = _fresh_lm if method == "lm" else functools.partial(_fresh_optax, adam)
    ckpt = (_Checkpoint(checkpoint, dict(free=free, per_sample=per_sample, n_points=n_points,
                                         method=method, starts=int(starts), seed=int(seed)))
            if checkpoint is not None else None)
    run = ckpt.load(adam, lbfgs) if (ckpt is not None and resume) else None
    if run is None:
        run = fresh(initial[0], 0, [], [])
    per_start = max_iter + (warmup_steps if method == "adam-lbfgs" else 0)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=per_start * int(starts), desc="fit", unit="it", disable=None,
                   initial=len(run["history"]))
    cache = None
    try:
        while True:
            if run["phase"] == "complete":
                break
            if run["phase"] == "done":
                run["finished"].append([run["best_loss"], np.asarray(run["best_z"]).tolist()])
                if run["start"] + 1 >= len(initial):
                    run["phase"] = "complete"
                    continue
                run = fresh(initial[run["start"] + 1], run["start"] + 1, run["finished"],
                            run["history"])
                cache = None
                continue
            if method == "lm":
                if cache is None:
                    cache = evaluate(run["z"])
                    run["best_loss"] = run["loss"] = float(cache[0] @ cache[0])
                cache, converged = _lm_iteration(evaluate, run, cache, ftol=ftol, xtol=xtol,
                                                 gtol=gtol)
                value = run["loss"]
                run.update(k=run["k"] + 1, best_z=run["z"], best_loss=value)
                if converged or run["k"] >= max_iter or not np.isfinite(value):
                    run["phase"] = "done"
            else:
                value = _optax_iteration(problem, run, warmup_steps, max_iter, gtol, lbfgs,
                                         adam_step, lbfgs_step)
                if value is None:
                    continue
            run["history"].append(value)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{value:.3e}", start=run["start"])
            if ckpt is not None and len(run["history"]) % checkpoint_every == 0:
                ckpt.save(run)
            if callback is not None:
                callback(len(run["history"]), value)
    except KeyboardInterrupt:
        if ckpt is not None:
            ckpt.save(run)
        raise
    finally:
        if bar is not None:
            bar.close()
    if ckpt is not None:
        ckpt.save(run)
    losses = [f[0] for f in run["finished"]]
    best = int(np.nanargmin(losses)) if np.any(np.isfinite(losses)) else 0
    best_z = np.asarray(run["finished"][best][1])
    wall = time.perf_counter() - t_start

    r, jac = evaluate(best_z)  # compiled already for "lm"
    best_loss = float(r @ r)
    labels = free + [f"{n}[{s}]" for s in samples for n in per_sample]
    sd, corr = _laplace(r, jac, n_points + n_lifetimes, problem, best_z)
    zg, zs = problem.split(jnp.asarray(best_z))
    sample_params = {s: problem.params_of(zg, zs[i]) for i, s in enumerate(samples)}
    first = sample_params[samples[0]]

    def natural(z_vec):
        zg_, zs_ = problem.split(jnp.asarray(z_vec))
        out = {n: float(t.inverse(zg_[i])) for i, (n, t) in
               enumerate(zip(free, problem.transforms, strict=True))}
        for j, s in enumerate(samples):
            out.update({f"{n}[{s}]": float(t.inverse(zs_[j, i])) for i, (n, t) in
                        enumerate(zip(per_sample, problem.sample_transforms, strict=True))})
        return out

    g = len(free)
    return FitResult(
        free=free,
        values={n: float(np.asarray(getattr(first, n))) for n in free},
        stderr=dict(zip(free, sd[:g], strict=True)),
        correlation=corr,
        loss=best_loss,
        rmse_plqy=float(np.sqrt(np.sum(r[is_plqy] ** 2) / n_points)),
        rmse_lifetime_ns=(float(np.sqrt(np.sum(r[~is_plqy] ** 2) / n_lifetimes)
                                / lifetime_weight_per_ns) if n_lifetimes else None),
        n_points=n_points,
        iterations=len(run["history"]),
        wall_s=wall,
        params=first,
        protocols=protocols,
        settings=dict(model=problem.model.name, free=free, per_sample=per_sample,
                      method=method, starts=int(starts), seed=int(seed),
                      start_spread=start_spread, max_iter=max_iter, ftol=ftol, xtol=xtol,
                      gtol=gtol, warmup_steps=warmup_steps, learning_rate=learning_rate,
                      rtol=float(problem.settings.rtol), atol=float(problem.settings.atol),
                      irradiance_mw_cm2=irradiance_mw_cm2,
                      lifetime_weight_per_ns=lifetime_weight_per_ns if lifetimes else None,
                      protocol=None if protocol is None else str(protocol)),
        history=list(run["history"]),
        columns=labels,
        per_sample=per_sample,
        sample_values={s: {n: float(np.asarray(getattr(sample_params[s], n)))
                           for n in per_sample} for s in samples},
        sample_stderr={s: {n: sd[g + j * len(per_sample) + i]
                           for i, n in enumerate(per_sample)} for j, s in enumerate(samples)},
        sample_params=sample_params,
        starts=[dict(loss=f[0], values=natural(f[1])) for f in run["finished"]],
        method=method,
    )


def _fresh_lm(z, start, finished, history) -> dict:
    return dict(phase="lm", k=0, z=np.asarray(z), state=np.array([np.nan, 2.0]),
                best_z=np.asarray(z), best_loss=np.inf, loss=np.inf, start=start,
                finished=finished, history=history)


def _fresh_optax(adam, z, start, finished, history) -> dict:
    z = jnp.asarray(z)
    return dict(phase="adam", k=0, z=z, state=adam.init(z), best_z=z, best_loss=np.inf,
                start=start, finished=finished, history=history)


def _optax_iteration(problem, run, warmup_steps, max_iter, gtol, lbfgs, adam_step,
                     lbfgs_step):
    """One Adam or L-BFGS iteration on `run`; None when only the phase changed."""
    if run["phase"] == "adam" and run["k"] >= warmup_steps:
        run.update(phase="lbfgs", k=0, z=run["best_z"], state=lbfgs.init(run["best_z"]))
        return None
    if run["phase"] == "lbfgs" and run["k"] >= max_iter:
        _finish_optax(problem, run)
        return None
    z = run["z"]
    if run["phase"] == "adam":
        z_new, state, value = adam_step(problem, z, run["state"])
        gnorm = np.inf
    else:
        z_new, state, value, gnorm = lbfgs_step(problem, z, run["state"])
    value = float(value)
    # Commit the step only once it is complete, so an interrupt leaves a consistent run.
    if value <= run["best_loss"]:
        run["best_z"], run["best_loss"] = z, value
    run.update(z=z_new, state=state, k=run["k"] + 1)
    if run["phase"] == "lbfgs" and (float(gnorm) < gtol or not np.isfinite(value)):
        _finish_optax(problem, run)
    return value


def _finish_optax(problem, run) -> None:
    final = float(_loss(problem, jnp.asarray(run["z"])))  # the last step's own point
    if np.isfinite(final) and final <= run["best_loss"]:
        run["best_z"], run["best_loss"] = run["z"], final
    run["phase"] = "done"


class _Checkpoint:
    """The optimiser's whole state in one `.npz`, written whole or not at all."""

    def __init__(self, path, tag: dict):
        self.path = Path(path)
        self.tag = tag

    def save(self, run: dict) -> None:
        leaves = jax.tree.leaves((run["z"], run["state"], run["best_z"]))
        meta = dict(self.tag, **{k: run[k] for k in ("phase", "k", "start", "finished",
                                                      "history")},
                    best_loss=float(run["best_loss"]), loss=float(run.get("loss", np.nan)))
        with atomic_path(self.path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, meta=np.asarray(json.dumps(meta)),
                     **{f"leaf{i}": np.asarray(x) for i, x in enumerate(leaves)})

    def load(self, adam, lbfgs) -> dict | None:
        if not self.path.exists():
            return None
        with np.load(self.path) as f:
            meta = json.loads(str(f["meta"]))
            leaves = [f[f"leaf{i}"] for i in range(len(f.files) - 1)]
        if any(meta.get(k) != v for k, v in self.tag.items()):
            raise DataError(f"{self.path}: checkpoint is of another fit ("
                            + ", ".join(f"{k} {meta.get(k)}" for k in self.tag)
                            + "); remove it or drop --resume")
        run = {k: meta[k] for k in ("phase", "k", "start", "finished", "history")}
        run.update(best_loss=meta["best_loss"], loss=meta["loss"])
        if self.tag["method"] == "lm" or meta["phase"] in ("done", "complete"):
            run.update(z=leaves[0], state=leaves[1], best_z=leaves[-1])
            if self.tag["method"] != "lm":
                run.update(z=jnp.asarray(leaves[0]), best_z=jnp.asarray(leaves[-1]))
            return run
        z = jnp.asarray(leaves[0])
        opt = adam if meta["phase"] == "adam" else lbfgs
        template = (z, opt.init(z), z)
        z, state, best_z = jax.tree.unflatten(jax.tree.structure(template),
                                              [jnp.asarray(x) for x in leaves])
        run.update(z=z, state=state, best_z=best_z)
        return run
