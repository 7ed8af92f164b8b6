"""The `"adam-lbfgs"` method: optax Adam for a warm-up, then optax L-BFGS, on reverse-mode
gradients of the loss; one host-side iteration at a time.

Same interface as the Levenberg–Marquardt solver (`init`, `step`, `terminate`, optimistix
style), with `fn` the residual problem; its state is an `eqx.Module`, a pytree that a
checkpoint saves and loads whole.
"""

from __future__ import annotations

import dataclasses
import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._problem import _loss

__all__ = ["AdamLBFGS", "AdamLBFGSState"]


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


class AdamLBFGSState(eqx.Module):
    """Where an Adam-then-L-BFGS run stands.

    - `phase`: `"adam"` (the warm-up), `"lbfgs"` or `"done"`; `k`: iterations in this phase.
    - `z`: the current point (transformed space).
    - `adam_state`, `lbfgs_state`: the optax states (L-BFGS's is set afresh when the warm-up
      ends; both are always there, so the state's structure never changes).
    - `best_z`, `best_loss`: the lowest loss (fraction²) seen so far and where.
    - `loss`: the loss of the last iteration, at the point it started from.
    """

    phase: str
    k: int
    z: jax.Array
    adam_state: optax.OptState
    lbfgs_state: optax.OptState
    best_z: jax.Array
    best_loss: float
    loss: float


class AdamLBFGS(eqx.Module):
    """`warmup_steps` Adam iterations (`learning_rate`), then up to `max_iter` L-BFGS
    iterations from the best point of the warm-up, stopping early when the gradient's norm is
    below `gtol` or the loss is not finite. The result is the best point seen."""

    learning_rate: float
    warmup_steps: int
    max_iter: int
    gtol: float

    @property
    def max_iterations(self) -> int:
        """Most iterations one start can take."""
        return self.warmup_steps + self.max_iter

    def template(self, z) -> AdamLBFGSState:
        """A state at `z` that has taken no iteration (`init` before its phase changes); also
        the structure to load a checkpoint into."""
        adam, lbfgs, _, _ = _optax_steps(self.learning_rate)
        z = jnp.asarray(z)
        return AdamLBFGSState(phase="adam", k=0, z=z, adam_state=adam.init(z),
                               lbfgs_state=lbfgs.init(z), best_z=z, best_loss=np.inf,
                               loss=np.nan)

    def init(self, problem, z) -> AdamLBFGSState:
        return self._advance(problem, self.template(z))

    def step(self, problem, state: AdamLBFGSState) -> AdamLBFGSState:
        """One Adam or L-BFGS iteration, then the phase changes it leads to."""
        _, _, adam_step, lbfgs_step = _optax_steps(self.learning_rate)
        if state.phase == "adam":
            z, opt_state, value = adam_step(problem, state.z, state.adam_state)
            state, gnorm = dataclasses.replace(state, adam_state=opt_state), np.inf
        else:
            z, opt_state, value, gnorm = lbfgs_step(problem, state.z, state.lbfgs_state)
            state = dataclasses.replace(state, lbfgs_state=opt_state)
        value = float(value)  # at the step's starting point
        if value <= state.best_loss:
            state = dataclasses.replace(state, best_z=state.z, best_loss=value)
        state = dataclasses.replace(state, z=z, k=state.k + 1, loss=value)
        if state.phase == "lbfgs" and (float(gnorm) < self.gtol or not np.isfinite(value)):
            return self._finish(problem, state)
        return self._advance(problem, state)

    def terminate(self, state: AdamLBFGSState) -> bool:
        return state.phase == "done"

    def best(self, state: AdamLBFGSState) -> tuple[float, jax.Array]:
        """The run's result: the lowest loss seen and its point."""
        return state.best_loss, state.best_z

    def _advance(self, problem, state: AdamLBFGSState) -> AdamLBFGSState:
        """The phase changes that take no iteration: after the warm-up, L-BFGS starts afresh
        from the warm-up's best point; after `max_iter` L-BFGS iterations, the run is done."""
        if state.phase == "adam" and state.k >= self.warmup_steps:
            _, lbfgs, _, _ = _optax_steps(self.learning_rate)
            state = dataclasses.replace(state, phase="lbfgs", k=0, z=state.best_z,
                                        lbfgs_state=lbfgs.init(state.best_z))
        if state.phase == "lbfgs" and state.k >= self.max_iter:
            state = self._finish(problem, state)
        return state

    def _finish(self, problem, state: AdamLBFGSState) -> AdamLBFGSState:
        """Done; the last step's own point is evaluated too, as every step's loss is that of
        its starting point."""
        final = float(_loss(problem, jnp.asarray(state.z)))
        if np.isfinite(final) and final <= state.best_loss:
            state = dataclasses.replace(state, best_z=state.z, best_loss=final)
        return dataclasses.replace(state, phase="done")
