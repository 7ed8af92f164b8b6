"""Forward sensitivities of a small model: the states and their derivatives with respect to a
few parameters, integrated together as one ODE (the simultaneous corrector of CVODES, here
with a W-method).

`solve_at` under `jax.jacfwd` gives exact derivatives of the discrete solve, but JAX then
differentiates and batches diffrax's whole adaptive loop (step-size control, interpolation,
saving). Here the sensitivity equations

    dS/dt = J_y(y, p) S + df/dp,   S = dy/dp,

are appended to the state, so diffrax integrates one ODE of `n (1 + P)` unknowns and nothing
is differentiated through its loop; only the vector field and the observables are. On one
`mean_field` curve (3 rates free, ROS34PW2 at rtol 1e-6) the fitter's residual-and-Jacobian
program then traced in 0.9 s instead of 1.55 s (the same program under `jax.jacfwd` with `W`
held constant) and compiled in about the same time (2.6 s against 2.45 s).

With [`ROS34PW2`][] every column is solved with `W = I - g h J_y` (a W-method may use any
`W`, so ROS34PW2 stays third order): one `n x n` LU per step, as for the solve alone. Steps are
chosen for the states alone (CVODES's `errconS = False`), so the sensitivities cost no extra
steps; they are derivatives of the exact solution to about the tolerance rather than the exact
derivatives of the discrete solution. On that curve they lie 1.4e-5 (of each column's largest
entry) from derivatives computed at rtol 1e-9, as do the exact derivatives of the rtol 1e-6
solve (1.3e-5).
"""

from __future__ import annotations

from collections.abc import Callable

import diffrax
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import optimistix as optx
from jax.flatten_util import ravel_pytree

from ..models import AbstractModel
from ._results import result_code
from ._simulate import DT0_H, step_drives
from ._term import ModelTerm

__all__ = ["SensitivityTerm", "solve_sensitivities_at"]


class SensitivityTerm(ModelTerm):
    """The model's vector field with its forward sensitivities, on states `Y = [y | S]` of
    shape `(n, 1 + P)`: column 0 the flattened state, columns 1.. its derivatives with respect
    to P parameters.

    `args` is `(co, co_tangents)`: the step's `Coefficients` and their derivatives, a pytree
    of the same structure with a leading axis of length P.

    **Fields:** as [`ModelTerm`][], plus `flat_field`, the model's vector field on the
    flattened state alone.
    """

    flat_field: Callable

    def __init__(self, model: AbstractModel, unravel):
        super().__init__(model, unravel)
        flat_field = self.vector_field

        def augmented(t, big_y, args):
            co, co_tangents = args
            y, sens = big_y[:, 0], big_y[:, 1:]

            def column(s, dco):
                return jax.jvp(lambda yy, cc: flat_field(t, yy, cc), (y, co), (s, dco))[1]

            ds = jax.vmap(column, in_axes=(1, 0), out_axes=1)(sens, co_tangents)
            return jnp.concatenate([flat_field(t, y, co)[:, None], ds], axis=1)

        self.vector_field = augmented
        self.flat_field = flat_field

    def w_solver(self, t, big_y, args, a):
        """`R -> W^-1 R` column by column, `W = I - a J_y` at the state column of `big_y`.

        The augmented system's exact Jacobian is block lower triangular: `J_y` on the diagonal
        of every column and second derivatives `d(J_y S_i + df/dp_i)/dy` below it. A W-method
        may drop those (ROS34PW2 is third order for any `W`), and dropping them keeps one
        `n x n` LU per step and a program without second derivatives. (Keeping them, with the
        sensitivities in the error control, cost 0.8 s more compilation on one curve.)
        """
        co, _ = args
        y = big_y[:, 0]
        jac = jax.jacfwd(lambda yy: self.flat_field(t, yy, co))(y)
        lu = jsl.lu_factor(jnp.eye(y.size, dtype=y.dtype) - a * jac)
        return lambda rhs: jsl.lu_solve(lu, rhs)


def _directional(fn, w, n_dirs):
    """`fn(w)` and its derivatives along each unit vector, stacked on a leading axis."""
    eye = jnp.eye(n_dirs, dtype=w.dtype)
    value = fn(w)
    tangents = jax.vmap(lambda e: jax.jvp(fn, (w,), (e,))[1])(eye)
    return value, tangents


def solve_sensitivities_at(model: AbstractModel, assembly, params_of: Callable, w, protocol,
                           settings, local_times_h):
    """Observables at `local_times_h` (as [`solve_at`][]) and their derivatives with respect
    to the vector `w`, for parameters `params_of(w)`.

    Any diffrax solver integrates the augmented system; [`ROS34PW2`][] (what the fitter
    uses) takes its `W` from the term's state Jacobian alone. Returns
    `(obs, obs_jac, codes, num_steps)`: observables of shape `(n_steps, K)`, their
    derivatives `(n_steps, K, P)`, per-step result codes and solver steps. Traceable.
    """
    n_par = w.shape[0]

    def setup(ww):
        params = params_of(ww)
        cells = model.cells(assembly, params)
        return params, cells

    params, cells = setup(w)
    y0, unravel = ravel_pytree(model.initial_state(cells, params))
    s0 = jax.jacfwd(lambda ww: ravel_pytree(model.initial_state(*setup(ww)[::-1]))[0])(w)
    big_y0 = jnp.concatenate([y0[:, None], s0], axis=1)
    term = SensitivityTerm(model, unravel)
    # Steps are chosen for the states alone (CVODES's errconS = False): the sensitivities
    # then cost no extra steps, and are accurate to about the tolerance (see module doc).
    pid = diffrax.PIDController(rtol=settings.rtol, atol=settings.atol,
                                norm=lambda err: optx.rms_norm(err[:, 0]))

    def one_step(big_y, drive):
        duration_h, wavelength_nm, irradiance, temperature_k, ts = drive

        def coefficients(ww):
            p, c = setup(ww)
            return model.coefficients(c, assembly, p, wavelength_nm, irradiance, temperature_k)

        co, co_tangents = _directional(coefficients, w, n_par)
        sol = diffrax.diffeqsolve(
            term, settings.solver, t0=0.0, t1=duration_h, dt0=DT0_H, y0=big_y,
            args=(co, co_tangents), saveat=diffrax.SaveAt(ts=ts), stepsize_controller=pid,
            max_steps=settings.max_steps, throw=False,
        )
        return sol.ys[-1], (sol.ys, result_code(sol.result, sol.ys), sol.stats["num_steps"])

    _, (big_ys, codes, num_steps) = jax.lax.scan(one_step, big_y0,
                                                 step_drives(protocol, local_times_h))

    def observe(y, ww):
        p, c = setup(ww)
        probe = model.probe_weight(c, assembly, p)
        return model.observables(unravel(y), c, probe, p)

    def observe_with_tangents(big_y):
        y, sens = big_y[:, 0], big_y[:, 1:]
        eye = jnp.eye(n_par, dtype=w.dtype)
        value = observe(y, w)
        tangents = jax.vmap(lambda s, e: jax.jvp(observe, (y, w), (s, e))[1],
                            in_axes=(1, 0), out_axes=-1)(sens, eye)
        return value, tangents

    obs, obs_jac = jax.vmap(jax.vmap(observe_with_tangents))(big_ys)
    return obs, obs_jac, codes, num_steps
