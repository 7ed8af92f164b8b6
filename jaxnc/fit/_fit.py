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

import dataclasses
import functools
import json
import time
from pathlib import Path

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._errors import DataError, ParameterError
from .._io import atomic_path
from ..geometry import Assembly
from ..models import get_model
from ..parameters import PARAMETER_INFO, Parameters
from ..protocol import Protocol
from ..solve._simulate import SolverSettings, default_tolerances, resolve_solver, solve_at
from ._data import Dataset
from ._protocols import _save_grid, protocol_from_curve
from ._transforms import Transform

__all__ = ["FitResult", "fit", "protocol_from_curve", "Transform"]


# ------------------------------------------------------------------------------- results
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


# ------------------------------------------------------------------------------ problem
class _Group(eqx.Module):
    """Curves solved together as one `vmap`ped batch: one assembly, one step sequence.

    Leaves carry a leading sample axis; `rows` are the samples' positions in the dataset.
    Shorter curves are padded (`mask` 0) to the longest in the group.
    """

    assembly: Assembly
    protocol: Protocol
    grid: jax.Array
    step: jax.Array
    slot: jax.Array
    target: jax.Array
    mask: jax.Array
    lifetime: jax.Array | None
    lifetime_mask: jax.Array | None
    rows: tuple = eqx.field(static=True)

    def batch(self):
        return (self.protocol, self.grid, self.step, self.slot, self.target, self.mask,
                self.lifetime, self.lifetime_mask)


class _Problem(eqx.Module):
    """Everything the residuals need, as one pytree (jit-compiled once per structure)."""

    model: eqx.Module
    base: Parameters
    groups: tuple
    settings: SolverSettings
    free: tuple = eqx.field(static=True)
    per_sample: tuple = eqx.field(static=True)
    transforms: tuple = eqx.field(static=True)
    sample_transforms: tuple = eqx.field(static=True)
    n_samples: int = eqx.field(static=True)
    lifetime_weight: float = eqx.field(static=True, default=0.01)

    @property
    def size(self) -> int:
        return len(self.free) + len(self.per_sample) * self.n_samples

    def split(self, z):
        """Global part `(G,)` and per-sample part `(n_samples, P)` of the vector `z`."""
        g = len(self.free)
        return z[:g], z[g:].reshape(self.n_samples, len(self.per_sample))

    def params_of(self, z_global, z_sample) -> Parameters:
        values = {n: t.inverse(z_global[i])
                  for i, (n, t) in enumerate(zip(self.free, self.transforms, strict=True))}
        values.update({n: t.inverse(z_sample[i]) for i, (n, t) in
                       enumerate(zip(self.per_sample, self.sample_transforms, strict=True))})
        return self.base.replace(**values)

    def _sample_residual(self, assembly, settings, w, protocol, grid, step, slot, target,
                         mask, lifetime, lifetime_mask):
        g = len(self.free)
        p = self.params_of(w[:g], w[g:])
        _, obs, codes, _ = solve_at(self.model, assembly, p, protocol, settings, grid)
        r = (obs["plqy"][step, slot] - target) * mask
        if lifetime is not None:  # in PLQY units: lifetime_weight (fraction per ns) x ns
            tau = obs["lifetime_ns"][step, slot]
            r = jnp.concatenate([r, self.lifetime_weight * (tau - lifetime) * lifetime_mask])
        return jnp.where(jnp.all(codes == 0), r, jnp.nan)  # a failed solve is rejected

    def _w(self, z, group):
        zg, zs = self.split(z)
        rows = np.asarray(group.rows)
        return jnp.concatenate([jnp.broadcast_to(zg, (len(rows), zg.size)), zs[rows]], axis=1)

    def residuals(self, z):
        """All residuals (model - data, PLQY fraction), padded entries 0."""
        out = []
        for group in self.groups:
            def one(w, *batch, group=group):
                return self._sample_residual(group.assembly, self.settings, w, *batch)

            out.append(jax.vmap(one)(self._w(z, group), *group.batch()).ravel())
        return jnp.concatenate(out)

    def loss(self, z):
        r = self.residuals(z)
        return jnp.sum(r**2)

    def residuals_and_jacobian(self, z):
        """Residuals and their Jacobian with respect to `z` (forward mode).

        Each sample depends on the global part and its own per-sample part only, so every
        sample carries `G + P` tangents, whatever the number of samples; its columns are then
        placed in the full `(n, G + P * n_samples)` matrix.
        """
        fwd = eqx.tree_at(lambda s: s.adjoint, self.settings, diffrax.ForwardMode())
        g, nsp = len(self.free), len(self.per_sample)
        rs, js = [], []
        for group in self.groups:
            def one(w, *batch, group=group):
                def f(ww):
                    r = self._sample_residual(group.assembly, fwd, ww, *batch)
                    return r, r

                jac, r = jax.jacfwd(f, has_aux=True)(w)
                return r, jac

            r, jac = jax.vmap(one)(self._w(z, group), *group.batch())
            n_s, n = r.shape
            onehot = jax.nn.one_hot(np.asarray(group.rows), self.n_samples, dtype=jac.dtype)
            local = jnp.einsum("inp,is->insp", jac[..., g:], onehot)
            local = local.reshape(n_s, n, self.n_samples * nsp)
            rs.append(r.ravel())
            js.append(jnp.concatenate([jac[..., :g], local], axis=-1).reshape(n_s * n, -1))
        return jnp.concatenate(rs), jnp.concatenate(js)


# Module-level so that repeated fits of the same structure reuse one compilation.
_residuals_and_jacobian = eqx.filter_jit(lambda problem, z: problem.residuals_and_jacobian(z))
_loss = eqx.filter_jit(lambda problem, z: problem.loss(z))
_residuals = eqx.filter_jit(lambda problem, z: problem.residuals(z))


def _build_groups(data: Dataset, assemblies: list[Assembly], protocols: list[Protocol],
                  lifetimes: bool = False):
    """Batch curves that share an assembly and a step sequence; pad them to equal shape.

    With `lifetimes`, every sample also carries its `lifetime_ns` column (blank cells and
    curves without the column masked out).
    """
    keyed: dict = {}
    for i, (asm, proto) in enumerate(zip(assemblies, protocols, strict=True)):
        keyed.setdefault((id(asm), proto.kinds), []).append(i)
    groups = []
    for rows in keyed.values():
        prepared = [_save_grid(data.curves[i].time_h, protocols[i]) for i in rows]
        width = max(grid.shape[1] for grid, _, _ in prepared)
        n = max(len(data.curves[i]) for i in rows)
        grids, steps, slots, targets, masks, taus, tau_masks = [], [], [], [], [], [], []
        for i, (grid, step, slot) in zip(rows, prepared, strict=True):
            pad = np.repeat(grid[:, -1:], width - grid.shape[1], axis=1)  # the step's end
            grids.append(np.concatenate([grid, pad], axis=1))
            m = len(data.curves[i])
            steps.append(np.pad(step, (0, n - m)))
            slots.append(np.pad(slot, (0, n - m)))
            targets.append(np.pad(data.curves[i].plqy, (0, n - m)))
            masks.append(np.pad(np.ones(m), (0, n - m)))
            tau = data.curves[i].lifetime_ns
            tau = np.full(m, np.nan) if tau is None else tau
            taus.append(np.pad(np.nan_to_num(tau), (0, n - m)))
            tau_masks.append(np.pad(np.isfinite(tau).astype(float), (0, n - m)))
        protocol = jax.tree.map(lambda *a: jnp.stack(a), *[protocols[i] for i in rows])
        stack = lambda a: jnp.asarray(np.stack(a))  # noqa: E731
        groups.append(_Group(assemblies[rows[0]], protocol, stack(grids), stack(steps),
                             stack(slots), stack(targets), stack(masks),
                             stack(taus) if lifetimes else None,
                             stack(tau_masks) if lifetimes else None, tuple(rows)))
    return tuple(groups)



@dataclasses.dataclass
class _Setup:
    problem: _Problem
    z0: np.ndarray
    is_plqy: np.ndarray  # which residuals are PLQY (the rest: weighted lifetimes)
    n_lifetimes: int
    samples: list
    protocols: list
    lifetimes: bool
    protocol: Protocol | None  # the one given for every curve, parsed


def _setup(data, assembly, params, free, per_sample, model, protocol, irradiance_mw_cm2,
           lifetime_weight_per_ns, rtol, atol) -> _Setup:
    """Validate the inputs and build the residual problem and the starting vector."""
    names = list(free) + list(per_sample)
    if isinstance(protocol, str):
        protocol = Protocol.parse(protocol)
    samples = [c.sample for c in data.curves]
    if isinstance(assembly, dict):
        missing = [s for s in samples if s not in assembly]
        if missing:
            raise DataError(f"no assembly given for sample(s) {missing}; the assembly dict has "
                            f"{sorted(assembly)}")
        assemblies = [assembly[s] for s in samples]
    else:
        assemblies = [assembly] * len(samples)
    protocols = [protocol if protocol is not None else
                 protocol_from_curve(c, irradiance_mw_cm2=irradiance_mw_cm2)
                 for c in data.curves]
    x0 = {n: float(np.asarray(getattr(params, n))) for n in names}
    transforms = {n: Transform.for_parameter(n, x0[n]) for n in names}
    for n in names:
        if not np.isfinite(float(transforms[n].forward(x0[n]))):
            raise ParameterError(f"free parameter {n} starts at {x0[n]:g}, where its "
                                 f"{transforms[n].kind} transform is undefined; start it inside "
                                 f"the open range")
    if not lifetime_weight_per_ns >= 0:
        raise ParameterError(f"lifetime_weight_per_ns must be >= 0, got {lifetime_weight_per_ns}")
    lifetimes = lifetime_weight_per_ns > 0 and any(
        c.lifetime_ns is not None and np.isfinite(c.lifetime_ns).any() for c in data.curves)
    groups = _build_groups(data, assemblies, protocols, lifetimes)
    model = get_model(model)
    solver = resolve_solver(None, model)
    default_rtol, default_atol = default_tolerances(solver)
    settings = SolverSettings(solver=solver, rtol=default_rtol if rtol is None else rtol,
                              atol=default_atol if atol is None else atol)
    problem = _Problem(model, params, groups, settings,
                       tuple(free), tuple(per_sample), tuple(transforms[n] for n in free),
                       tuple(transforms[n] for n in per_sample), len(samples),
                       float(lifetime_weight_per_ns))
    # Which entries of the residual vector are PLQY (the rest are weighted lifetimes).
    is_plqy = np.concatenate([np.tile(np.r_[np.ones(g.target.shape[1], bool),
                                            np.zeros(g.target.shape[1] if lifetimes else 0,
                                                     bool)], len(g.rows)) for g in groups])
    n_lifetimes = int(sum(np.isfinite(c.lifetime_ns).sum() for c in data.curves
                          if c.lifetime_ns is not None)) if lifetimes else 0
    z0 = np.concatenate([[float(transforms[n].forward(x0[n])) for n in free],
                         np.tile([float(transforms[n].forward(x0[n])) for n in per_sample],
                                 len(samples))])
    return _Setup(problem, z0, is_plqy, n_lifetimes, samples, protocols, bool(lifetimes),
                  protocol)


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


def _laplace(r, jac, n_points: int, problem: _Problem, z) -> tuple[list[float], np.ndarray]:
    """Gauss–Newton standard errors (natural units) and correlation matrix at `z`.

    `s^2 (J^T J)^-1` in the transformed space, `s^2` the residual variance with `n_points - p`
    degrees of freedom, mapped to natural units by the delta method.
    """
    p = jac.shape[1]
    s2 = float(r @ r) / max(n_points - p, 1)
    cov_z = s2 * np.linalg.pinv(jac.T @ jac)
    zg, zs = problem.split(jnp.asarray(z))
    scale = [float(t.derivative(zg[i])) for i, t in enumerate(problem.transforms)]
    for j in range(problem.n_samples):
        scale += [float(t.derivative(zs[j, i])) for i, t in enumerate(problem.sample_transforms)]
    scale = np.asarray(scale)
    cov = cov_z * np.outer(scale, scale)
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    return sd.tolist(), corr
