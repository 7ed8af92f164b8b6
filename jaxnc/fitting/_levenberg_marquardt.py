"""The `"lm"` method: Levenberg–Marquardt on the residuals, one host-side iteration at a time.

The solver follows the optimistix interface (`init(fn, z) -> state`, `step(fn, state) ->
state`, `terminate(state)`); its state is a small `eqx.Module` of NumPy values, a pytree that a
checkpoint saves and loads whole.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import numpy as np

# Along directions the data hardly constrain, the step can be huge: it is capped to this largest
# entry in the transformed space (2 is a factor e^2 ~ 7 on a rate) to stay where the solver
# works; the gain ratio then judges the shortened step like any other.
MAX_STEP = 2.0

__all__ = ["LevenbergMarquardt", "LMState"]


class LMState(eqx.Module):
    """Where a Levenberg–Marquardt run stands.

    - `z`: the current point (transformed space); `r`, `jac`: the residuals there (PLQY
      fraction; lifetimes weighted into the same units) and their Jacobian with respect to `z`.
    - `mu`: the damping (NaN until the first iteration sets it from the Jacobian); `nu`: the
      factor it grows by on the next rejected step.
    - `k`: iterations done; `converged`: a stopping test passed.
    """

    z: np.ndarray
    r: np.ndarray
    jac: np.ndarray
    mu: float
    nu: float
    k: int
    converged: bool

    @property
    def loss(self) -> float:
        """Sum of squared residuals at `z` (fraction²)."""
        return float(self.r @ self.r)


class LevenbergMarquardt(eqx.Module):
    """Levenberg–Marquardt with Marquardt's scaling (damping `mu diag(J^T J)`) and Nielsen's
    damping update; one evaluation of `fn` per iteration.

    `fn(z)` returns the residuals and their Jacobian at `z` as NumPy arrays, all NaN where the
    evaluation failed; such a trial point is rejected like one that raises the loss. A run
    stops after `max_iter` iterations, when the loss is not finite, when the gradient's
    largest entry is at most `gtol`, when a step moves `z` by at most `xtol` relative, when an
    accepted step lowers the loss by at most `ftol` relative, or when a rejected step's linear
    model promises no more than that.

    Why not `optimistix.LevenbergMarquardt` (which `jaxnc.analysis.kinetics` uses): it is another
    algorithm with other iterates (damping `J^T J + I / step_size`, the step size set by a
    classical trust region, Cauchy termination on `rtol`/`atol`), so every fit would take
    another path and stop elsewhere; it linearises the whole residual function, so every
    sample would carry one tangent per entry of `z` (G + P × samples) where
    `ResidualProblem.residuals_and_jacobian` gives it G + P; a solver check failing in the compiled
    solve raises `eqx.EquinoxRuntimeError` out of the whole step, where here it is one
    rejected trial point; and it has no cap on the step in the transformed space. Host control
    (progress, checkpoints, Ctrl-C, callback) would not be a reason: optimistix solvers can be
    stepped from Python too, with the interface this class copies.
    """

    ftol: float
    xtol: float
    gtol: float
    max_iter: int

    @property
    def max_iterations(self) -> int:
        """Most iterations one start can take."""
        return self.max_iter

    def init(self, fn, z) -> LMState:
        """The state at `z` (one evaluation of `fn`)."""
        r, jac = fn(z)
        return LMState(z=np.asarray(z), r=r, jac=jac, mu=np.nan, nu=2.0, k=0, converged=False)

    def template(self, z) -> LMState:
        """A state of the structure `init` gives (values irrelevant), to load a checkpoint into;
        evaluates nothing."""
        z = np.asarray(z)
        return LMState(z=z, r=z, jac=z, mu=np.nan, nu=2.0, k=0, converged=False)

    def step(self, fn, state: LMState) -> LMState:
        """One iteration: a damped Gauss–Newton step from `state.z`, accepted or rejected."""
        z, r, jac = state.z, state.r, state.jac
        mu, nu = float(state.mu), float(state.nu)
        loss = state.loss
        grad = jac.T @ r
        a = jac.T @ jac
        d = np.diag(a).copy()
        d = np.maximum(d, 1e-8 * max(d.max(), 1e-300))  # Marquardt scaling, kept positive
        if not np.isfinite(mu):
            mu = 1e-3 * d.max()
        k = state.k + 1
        if np.max(np.abs(grad)) <= self.gtol:
            return dataclasses.replace(state, k=k, converged=True)
        h = np.linalg.solve(a + mu * np.diag(d), -grad)
        h *= min(1.0, MAX_STEP / max(np.max(np.abs(h)), 1e-300))
        small = np.linalg.norm(h) <= self.xtol * (np.linalg.norm(z) + self.xtol)
        r_new, jac_new = fn(z + h)
        loss_new = float(r_new @ r_new)
        predicted = -(2 * h @ grad + h @ a @ h)
        if np.isfinite(loss_new) and loss_new < loss and predicted > 0:
            rho = (loss - loss_new) / predicted
            return dataclasses.replace(
                state, z=z + h, r=r_new, jac=jac_new, mu=mu * max(1 / 3, 1 - (2 * rho - 1) ** 3),
                nu=2.0, k=k, converged=bool(small or loss - loss_new <= self.ftol * loss))
        # Rejected: converged when even the linear model promises no gain worth having.
        return dataclasses.replace(
            state, mu=mu * nu, nu=2 * nu, k=k,
            converged=bool(small or predicted <= self.ftol * loss or mu * nu > 1e20))

    def terminate(self, state: LMState) -> bool:
        return bool(state.converged or state.k >= self.max_iter or not np.isfinite(state.loss))

    def best(self, state: LMState) -> tuple[float, np.ndarray]:
        """The run's result: loss and point (the current ones; a rejected step never moves)."""
        return state.loss, state.z
