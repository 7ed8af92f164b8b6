"""Gradient-based fitting of model parameters to measured PLQY curves.

Free parameters are optimised in a transformed space (log for rates and other positive values,
logit for fractions, scaled identity for signed ones) by Adam (warm-up) and then L-BFGS
(optax), with gradients through the ODE solver: never finite differences. Standard errors and
correlations come from the Gauss–Newton (Laplace) approximation `s^2 (J^T J)^-1`, `J` the
Jacobian of the residuals with respect to the transformed parameters (forward mode), mapped
to natural units by the delta method.
"""

from __future__ import annotations

import dataclasses
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
from ..protocol import Protocol, Step
from ..solve._simulate import SolverSettings, solve_at
from ._data import Curve, Dataset

__all__ = ["FitResult", "fit", "protocol_from_curve", "Transform"]


# ----------------------------------------------------------------------------- protocols
def protocol_from_curve(curve: Curve, *, irradiance_mw_cm2: float = 10.0,
                        wavelength_nm: float = 468.0) -> Protocol:
    """Protocol implied by a curve's `light` and `temperature_k` columns.

    Consecutive rows with the same light state and temperature form one step. A step ends at
    the time of its last row (the condition is taken to change right after that measurement);
    the first step starts at t = 0.

    **Raises:** `DataError` without a `light` column, or when a step would have no duration.
    """
    if curve.light is None:
        raise DataError(f"sample {curve.sample!r}: no 'light' column; give the protocol "
                        f"explicitly")
    temps = curve.temperature_k if curve.temperature_k is not None else np.full(
        len(curve), 298.15)
    steps, start = [], 0.0
    row = 0
    n = len(curve)
    while row < n:
        end = row
        while end + 1 < n and curve.light[end + 1] == curve.light[row] and \
                temps[end + 1] == temps[row]:
            end += 1
        t_end = float(curve.time_h[end])
        if t_end <= start:
            raise DataError(f"sample {curve.sample!r}: the step starting at row {row + 2} has "
                            f"no duration (time {t_end:g} h)")
        if curve.light[row] == 1:
            steps.append(Step.light(t_end - start, wavelength_nm=wavelength_nm,
                                    irradiance_mw_cm2=irradiance_mw_cm2,
                                    temperature_k=float(temps[row])))
        else:
            steps.append(Step.dark(t_end - start, temperature_k=float(temps[row])))
        start, row = t_end, end + 1
    return Protocol(steps)


def _save_grid(time_h: np.ndarray, protocol: Protocol):
    """Per-step local save times (padded with the step end) and where each data row lands."""
    durations = np.asarray(protocol.duration_h)
    bounds = np.concatenate([[0.0], np.cumsum(durations)])
    if time_h.max() > bounds[-1] * (1 + 1e-12):
        raise DataError(f"data run to {time_h.max():g} h, past the protocol's {bounds[-1]:g} h")
    # A time on a boundary belongs to the earlier step.
    step = np.clip(np.searchsorted(bounds, time_h, side="left") - 1, 0, len(durations) - 1)
    per_step = [time_h[step == k] - bounds[k] for k in range(len(durations))]
    width = max(len(p) for p in per_step) + 1
    grid = np.zeros((len(durations), width))
    slots = np.zeros(len(time_h), dtype=int)
    for k, local in enumerate(per_step):
        grid[k, : len(local)] = local
        grid[k, len(local):] = durations[k]
        slots[step == k] = np.arange(len(local))
    return grid, step, slots


# ---------------------------------------------------------------------------- transforms
@dataclasses.dataclass(frozen=True)
class Transform:
    """Maps a parameter to the unconstrained optimisation space and back."""

    kind: str  # "log", "logit" or "scale"
    scale: float = 1.0

    @classmethod
    def for_parameter(cls, name: str, value: float) -> Transform:
        constraint = PARAMETER_INFO[name][0]
        if constraint in ("positive", "nonnegative"):
            return cls("log")
        if constraint == "fraction":
            return cls("logit")
        return cls("scale", abs(value) if value != 0 else 1.0)

    def forward(self, x):
        if self.kind == "log":
            return jnp.log(x)
        if self.kind == "logit":
            return jnp.log(x) - jnp.log1p(-x)
        return x / self.scale

    def inverse(self, z):
        if self.kind == "log":
            return jnp.exp(z)
        if self.kind == "logit":
            return jax.nn.sigmoid(z)
        return z * self.scale

    def derivative(self, z):
        """dx/dz at z (for the delta method)."""
        return jax.grad(lambda zz: self.inverse(zz))(z)


# ------------------------------------------------------------------------------- results
@dataclasses.dataclass
class FitResult:
    """Fitted values, uncertainties and the record of the run.

    **Fields:** `values`, `stderr` (natural units, by name), `correlation` (matrix in `free`
    order), `free`, `loss` (sum of squared residuals, PLQY fraction²), `rmse_plqy` (fraction),
    `iterations`, `wall_s`, `params` (the fitted `Parameters`), `settings`, `history` (loss
    per iteration).
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

    def to_json(self) -> dict:
        return dict(
            free=self.free,
            values=self.values,
            stderr=self.stderr,
            correlation=np.asarray(self.correlation).tolist(),
            loss=self.loss,
            rmse_plqy=self.rmse_plqy,
            n_points=self.n_points,
            iterations=self.iterations,
            wall_s=self.wall_s,
            settings=self.settings,
        )


# ------------------------------------------------------------------------------ the fit
class _Problem(eqx.Module):
    """Everything the residual function needs, as one pytree."""

    model: eqx.Module
    assembly: Assembly
    base: Parameters
    protocols: tuple
    grids: tuple
    steps: tuple = eqx.field(static=True)
    slots: tuple = eqx.field(static=True)
    targets: tuple
    settings: SolverSettings
    free: tuple = eqx.field(static=True)
    transforms: tuple = eqx.field(static=True)

    def params(self, z) -> Parameters:
        values = {n: t.inverse(z[i]) for i, (n, t) in enumerate(zip(self.free, self.transforms,
                                                                      strict=True))}
        return self.base.replace(**values)

    def residuals(self, z, settings=None):
        p = self.params(z)
        settings = self.settings if settings is None else settings
        out = []
        for proto, grid, step, slot, target in zip(self.protocols, self.grids, self.steps,
                                                   self.slots, self.targets, strict=True):
            _, obs, _, _ = solve_at(self.model, self.assembly, p, proto, settings, grid)
            pred = obs["plqy"][np.asarray(step), np.asarray(slot)]
            out.append(pred - target)
        return jnp.concatenate(out)

    def loss(self, z):
        r = self.residuals(z)
        return jnp.sum(r**2)


def fit(
    data: Dataset,
    assembly: Assembly,
    params: Parameters,
    free: list[str],
    model: str = "mean_field",
    *,
    protocol: Protocol | str | None = None,
    irradiance_mw_cm2: float = 10.0,
    warmup_steps: int = 30,
    learning_rate: float = 0.05,
    max_iter: int = 100,
    gtol: float = 1e-9,
    rtol: float = 1e-7,
    atol: float = 1e-10,
    progress: bool = True,
    checkpoint=None,
    checkpoint_every: int = 10,
    resume: bool = False,
    callback=None,
) -> FitResult:
    """Fit free parameters of the model to PLQY curves.

    **Arguments:**

    - `data`: a [`Dataset`][]; every curve is fitted with the same `assembly` and parameters.
    - `assembly`, `params`: the model geometry and the starting values.
    - `free`: names of the parameters to fit (see `Parameters.names()`).
    - `model`: `"mean_field"` (default, fast) or `"field"`.
    - `protocol`: the protocol for every curve; default: from each curve's `light` and
      `temperature_k` columns, light at `irradiance_mw_cm2` and 468 nm.
    - `warmup_steps`, `learning_rate`: Adam warm-up in the transformed space.
    - `max_iter`, `gtol`: L-BFGS iterations and gradient-norm stop.
    - `rtol`, `atol`: ODE tolerances.
    - `progress`: tqdm bar with the current loss.
    - `checkpoint`: a file (`.npz`) where the optimiser state is saved every
      `checkpoint_every` iterations, on Ctrl-C (then `KeyboardInterrupt` is re-raised) and at
      the end; with `resume=True` the fit continues from it and follows the same path as an
      uninterrupted fit.
    - `callback`: called as `callback(iteration, loss)` after every completed iteration.

    **Returns:** a [`FitResult`][].

    **Raises:** `ParameterError` for an unknown free name; `DataError` for data the protocol
    cannot explain.
    """
    free = list(free)
    unknown = [n for n in free if n not in PARAMETER_INFO]
    if unknown or not free:
        raise ParameterError(f"free parameters {unknown or '[]'} unknown or empty; known: "
                             f"{', '.join(PARAMETER_INFO)}")
    if isinstance(protocol, str):
        protocol = Protocol.parse(protocol)
    protocols, grids, steps, slots, targets = [], [], [], [], []
    for c in data.curves:
        proto = protocol if protocol is not None else protocol_from_curve(
            c, irradiance_mw_cm2=irradiance_mw_cm2)
        grid, step, slot = _save_grid(c.time_h, proto)
        protocols.append(proto)
        grids.append(jnp.asarray(grid))
        steps.append(tuple(step.tolist()))
        slots.append(tuple(slot.tolist()))
        targets.append(jnp.asarray(c.plqy))
    if len(set(free)) != len(free):
        raise ParameterError(f"free parameters repeat a name: {free}")
    x0 = {n: float(np.asarray(getattr(params, n))) for n in free}
    transforms = tuple(Transform.for_parameter(n, x0[n]) for n in free)
    for n, t in zip(free, transforms, strict=True):
        if not np.isfinite(float(t.forward(x0[n]))):
            raise ParameterError(f"free parameter {n} starts at {x0[n]:g}, where its {t.kind} "
                                 f"transform is undefined; start it inside the open range")
    settings = SolverSettings(rtol=rtol, atol=atol)
    model = get_model(model)
    problem = _Problem(model, assembly, params, tuple(protocols), tuple(grids),
                       tuple(steps), tuple(slots), tuple(targets), settings, tuple(free),
                       transforms)
    z = jnp.asarray([t.forward(x0[n]) for n, t in zip(free, transforms, strict=True)])

    t_start = time.perf_counter()
    adam = optax.adam(learning_rate)
    lbfgs = optax.lbfgs()

    @eqx.filter_jit
    def loss_only(problem, z):
        return problem.loss(z)  # forward solve only: compiles ~5x faster than a gradient

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

    n_points = int(sum(len(c) for c in data.curves))
    ckpt = _Checkpoint(checkpoint, free, n_points) if checkpoint is not None else None
    run = ckpt.load(adam, lbfgs) if (ckpt is not None and resume) else None
    if run is None:
        best_loss = float(loss_only(problem, z))
        run = dict(phase="adam", k=0, z=z, state=adam.init(z), best_z=z, best_loss=best_loss,
                   history=[])
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=warmup_steps + max_iter, desc="fit", unit="it",
                   initial=len(run["history"]))
    try:
        while run["phase"] != "done":
            if run["phase"] == "adam" and run["k"] >= warmup_steps:
                run.update(phase="lbfgs", k=0, z=run["best_z"],
                           state=lbfgs.init(run["best_z"]))
                continue
            if run["phase"] == "lbfgs" and run["k"] >= max_iter:
                run["phase"] = "done"
                continue
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
            run["history"].append(value)
            if run["phase"] == "lbfgs" and (float(gnorm) < gtol or not np.isfinite(value)):
                run["phase"] = "done"
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{value:.3e}", phase=run["phase"])
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
    final_loss = float(loss_only(problem, run["z"]))
    if np.isfinite(final_loss) and final_loss <= run["best_loss"]:
        run["best_z"], run["best_loss"] = run["z"], final_loss
    if ckpt is not None:
        ckpt.save(run)
    best_z, best_loss, history = run["best_z"], run["best_loss"], run["history"]
    iterations = len(history)
    wall = time.perf_counter() - t_start

    stderr, corr = _laplace(problem, best_z)
    fitted = problem.params(best_z)
    return FitResult(
        free=free,
        values={n: float(np.asarray(getattr(fitted, n))) for n in free},
        stderr=dict(zip(free, stderr, strict=True)),
        correlation=corr,
        loss=best_loss,
        rmse_plqy=float(np.sqrt(best_loss / n_points)),
        n_points=n_points,
        iterations=iterations,
        wall_s=wall,
        params=fitted,
        protocols=protocols,
        settings=dict(model=model.name, free=free, warmup_steps=warmup_steps,
                      learning_rate=learning_rate, max_iter=max_iter, gtol=gtol, rtol=rtol,
                      atol=atol, irradiance_mw_cm2=irradiance_mw_cm2,
                      protocol=None if protocol is None else str(protocol)),
        history=history,
    )


class _Checkpoint:
    """The optimiser's whole state in one `.npz`, written whole or not at all."""

    def __init__(self, path, free: list[str], n_points: int):
        self.path = Path(path)
        self.tag = dict(free=list(free), n_points=n_points)

    def save(self, run: dict) -> None:
        leaves = jax.tree.leaves((run["z"], run["state"], run["best_z"]))
        meta = dict(self.tag, phase=run["phase"], k=run["k"], best_loss=run["best_loss"],
                    history=run["history"])
        with atomic_path(self.path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, meta=np.asarray(json.dumps(meta)),
                     **{f"leaf{i}": np.asarray(x) for i, x in enumerate(leaves)})

    def load(self, adam, lbfgs) -> dict | None:
        if not self.path.exists():
            return None
        with np.load(self.path) as f:
            meta = json.loads(str(f["meta"]))
            leaves = [f[f"leaf{i}"] for i in range(len(f.files) - 1)]
        if {k: meta[k] for k in self.tag} != self.tag:
            raise DataError(f"{self.path}: checkpoint is of another fit (free {meta['free']}, "
                            f"{meta['n_points']} points); remove it or drop --resume")
        z = jnp.asarray(leaves[0])
        opt = adam if meta["phase"] == "adam" else lbfgs
        template = (z, opt.init(z), z)
        z, state, best_z = jax.tree.unflatten(jax.tree.structure(template),
                                              [jnp.asarray(x) for x in leaves])
        return dict(phase=meta["phase"], k=meta["k"], z=z, state=state, best_z=best_z,
                    best_loss=meta["best_loss"], history=list(meta["history"]))


def _laplace(problem: _Problem, z) -> tuple[list[float], np.ndarray]:
    """Gauss–Newton standard errors (natural units) and correlation matrix at `z`."""
    fwd = eqx.tree_at(lambda s: s.adjoint, problem.settings, diffrax.ForwardMode())
    jac = np.asarray(jax.jacfwd(lambda zz: problem.residuals(zz, fwd))(z))
    res = np.asarray(problem.residuals(z))
    n, p = jac.shape
    s2 = float(res @ res) / max(n - p, 1)
    cov_z = s2 * np.linalg.pinv(jac.T @ jac)
    scale = np.array([float(t.derivative(z[i])) for i, t in enumerate(problem.transforms)])
    cov = cov_z * np.outer(scale, scale)
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    return sd.tolist(), corr
