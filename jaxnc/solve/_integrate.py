"""Integrating a model through a protocol: one loop over the protocol's steps (a `lax.scan`,
one fixed-duration diffrax solve per step) for the states alone ([`solve_at`][]) or for the
states with their forward sensitivities ([`solve_sensitivities_at`][]).

Forward sensitivities: `solve_at` under `jax.jacfwd` gives exact derivatives of the discrete
solve, but JAX then differentiates and batches diffrax's whole adaptive loop (step-size
control, interpolation, saving). Instead the sensitivity equations

    dS/dt = J_y(y, p) S + df/dp,   S = dy/dp,

are appended to the state (the simultaneous corrector of CVODES, here with a W-method), so
diffrax integrates one ODE of `n (1 + P)` unknowns and nothing is differentiated through its
loop; only the vector field and the observables are. On one `mean_field` curve (3 rates free,
ROS34PW2 at rtol 1e-6) the fitter's residual-and-Jacobian program then traced in 0.9 s
instead of 1.55 s and compiled in about the same time (2.6 s against 2.45 s). Steps are
chosen for the states alone (CVODES's `errconS = False`), so the sensitivities cost no extra
steps; they are derivatives of the exact solution to about the tolerance rather than the
exact derivatives of the discrete solution (on that curve 1.4e-5 of each column's largest
entry from derivatives at rtol 1e-9, as are the exact derivatives of the rtol 1e-6 solve).
"""

from __future__ import annotations

from collections.abc import Callable

import diffrax
import jax
import jax.numpy as jnp
import optimistix as optx
from jax.flatten_util import ravel_pytree

from ..models import AbstractModel
from ._results import result_code
from ._rosenbrock import AbstractRosenbrockW
from ._settings import SolverSettings
from ._terms import ModelTerm, SensitivityTerm

__all__ = ["DT0_H", "step_drives", "integrate", "solve_at", "solve_sensitivities_at"]

#: First trial step (h): about the time trap charging takes (seconds), so the controller
#: grows it.
DT0_H = 1e-4


def step_drives(protocol, local_times_h):
    """What `lax.scan` feeds each protocol step: duration (h), wavelength (nm), irradiance
    (mW/cm²), temperature (K) and the step's local save times (h)."""
    return (protocol.duration_h, protocol.wavelength_nm, protocol.irradiance_mw_cm2,
            protocol.temperature_k, local_times_h)


def integrate(term, y0, protocol, local_times_h, settings: SolverSettings,
              args_of: Callable, norm: Callable | None = None):
    """Integrate `term` from `y0` through every step of `protocol`, saving at
    `local_times_h[k]` (h from step `k`'s start); each step starts where the last ended.

    `args_of(wavelength_nm, irradiance_mw_cm2, temperature_k)` gives a step's `args` (the
    vector field's coefficients); `norm` the step-size controller's error norm (default RMS).
    A solver whose dense output is only linear steps to every save time (so do all, with
    `settings.step_to_saves`).

    **Returns:** per-step saved states (leaves `(n_steps, K, ...)`), the result code of every
    step (`jaxnc.solve.result_message`; 0: success) and its solver steps. Traceable.
    """
    pid = diffrax.PIDController(rtol=settings.rtol, atol=settings.atol,
                                **({} if norm is None else dict(norm=norm)))
    linear = settings.solver.interpolation_cls is diffrax.LocalLinearInterpolation

    def one_step(y, drive):
        duration_h, wavelength_nm, irradiance, temperature_k, ts = drive
        controller = (diffrax.ClipStepSizeController(pid, step_ts=ts)
                      if linear or settings.step_to_saves else pid)
        sol = diffrax.diffeqsolve(
            term, settings.solver, t0=0.0, t1=duration_h, dt0=DT0_H, y0=y,
            args=args_of(wavelength_nm, irradiance, temperature_k),
            saveat=diffrax.SaveAt(ts=ts), stepsize_controller=controller,
            adjoint=settings.adjoint, max_steps=settings.max_steps, throw=False,
            progress_meter=settings.progress_meter,
        )
        y_end = jax.tree.map(lambda a: a[-1], sol.ys)
        return y_end, (sol.ys, result_code(sol.result, sol.ys), sol.stats["num_steps"])

    _, (ys, codes, num_steps) = jax.lax.scan(one_step, y0, step_drives(protocol, local_times_h))
    return ys, codes, num_steps


def _flat(model: AbstractModel, solver) -> bool:
    """Whether the state is integrated flattened into one vector: always, but for a
    Rosenbrock-W solver with a matrix-free Jacobian structure, whose `W` works on the
    structured state (the flat vector makes a smaller program, see `ModelTerm`)."""
    return not (isinstance(solver, AbstractRosenbrockW) and model.jacobian.matrix_free)


def solve_at(model: AbstractModel, assembly, params, protocol, settings, local_times_h,
             initial_state=None):
    """Integrate through `protocol`, saving at `local_times_h[k]` (h from step `k`'s start).

    `local_times_h` has shape `(n_steps, K)`, each row non-decreasing within
    `[0, duration_k]`; the last entry of every row must be the step's end (the next step
    starts from it). Returns per-step saved states and observables, shapes `(n_steps, K, ...)`,
    the result code per step and the solver steps per step. Traceable: the fitter calls it
    under `jit`, `grad` and `vmap`.

    Not jitted itself: its callers jit whole programs, and a `jit` boundary here made JAX
    trace the solve again for every transformation around it (the fit's Jacobian program
    traced in 6.9 s with it, 4.9 s without).
    """
    cells = model.cells(assembly, params)
    y0 = model.initial_state(cells, params) if initial_state is None else initial_state
    probe = model.probe_weight(cells, assembly, params)
    flat = _flat(model, settings.solver)
    if flat:
        y0, unravel = ravel_pytree(y0)
        term = ModelTerm(model, unravel)
    else:
        term = ModelTerm(model)

    def args_of(wavelength_nm, irradiance, temperature_k):
        return model.coefficients(cells, assembly, params, wavelength_nm, irradiance,
                                  temperature_k)

    ys, codes, num_steps = integrate(term, y0, protocol, local_times_h, settings, args_of)
    if flat:
        ys = jax.vmap(jax.vmap(unravel))(ys)
    obs = jax.vmap(jax.vmap(lambda y: model.observables(y, cells, probe, params)))(ys)
    return ys, obs, codes, num_steps


def _directional(fn, w, n_dirs):
    """`fn(w)` and its derivatives along each unit vector, stacked on a leading axis."""
    eye = jnp.eye(n_dirs, dtype=w.dtype)
    value = fn(w)
    tangents = jax.vmap(lambda e: jax.jvp(fn, (w,), (e,))[1])(eye)
    return value, tangents


def solve_sensitivities_at(model: AbstractModel, assembly, params_of: Callable, w, protocol,
                           settings, local_times_h, extra=None):
    """Observables at `local_times_h` (as [`solve_at`][]) and their derivatives with respect
    to the vector `w`, for parameters `params_of(w)` (module docstring).

    Any diffrax solver integrates the augmented system; [`ROS34PW2`][] (what the fitter
    uses) takes its `W` from the term's state Jacobian alone. Returns
    `(obs, obs_jac, codes, num_steps)`: observables of shape `(n_steps, K)`, their
    derivatives `(n_steps, K, P)`, per-step result codes and solver steps. Traceable.

    `extra`: `(read, step, slot)` adds `obs["extra"]` and its derivatives: `read(state,
    params)` (any array, e.g. a spectrum) at the saved points `(step[i], slot[i])`, shape
    `(len(step), ...)` and `(len(step), ..., P)`.
    """
    n_par = w.shape[0]

    def setup(ww):
        params = params_of(ww)
        return params, model.cells(assembly, params)

    params, cells = setup(w)
    y0, unravel = ravel_pytree(model.initial_state(cells, params))
    s0 = jax.jacfwd(lambda ww: ravel_pytree(model.initial_state(*setup(ww)[::-1]))[0])(w)

    def args_of(wavelength_nm, irradiance, temperature_k):
        def coefficients(ww):
            p, c = setup(ww)
            return model.coefficients(c, assembly, p, wavelength_nm, irradiance,
                                      temperature_k)

        return _directional(coefficients, w, n_par)

    # Steps are chosen for the states alone (CVODES's errconS = False): the sensitivities
    # then cost no extra steps, and are accurate to about the tolerance (module docstring).
    big_ys, codes, num_steps = integrate(
        SensitivityTerm(model, unravel), jnp.concatenate([y0[:, None], s0], axis=1), protocol,
        local_times_h, settings, args_of, norm=lambda err: optx.rms_norm(err[:, 0]))

    def observe(y, ww):
        p, c = setup(ww)
        return model.observables(unravel(y), c, model.probe_weight(c, assembly, p), p)

    def observe_with_tangents(big_y):
        y, sens = big_y[:, 0], big_y[:, 1:]
        eye = jnp.eye(n_par, dtype=w.dtype)
        value = observe(y, w)
        tangents = jax.vmap(lambda s, e: jax.jvp(observe, (y, w), (s, e))[1],
                            in_axes=(1, 0), out_axes=-1)(sens, eye)
        return value, tangents

    obs, obs_jac = jax.vmap(jax.vmap(observe_with_tangents))(big_ys)
    if extra is not None:
        read, step, slot = extra

        def read_with_tangents(big_y):
            def f(y, ww):
                return read(unravel(y), setup(ww)[0])

            y, sens = big_y[:, 0], big_y[:, 1:]
            eye = jnp.eye(n_par, dtype=w.dtype)
            tangents = jax.vmap(lambda s, e: jax.jvp(f, (y, w), (s, e))[1],
                                in_axes=(1, 0), out_axes=-1)(sens, eye)
            return f(y, w), tangents

        value, tangent = jax.vmap(read_with_tangents)(big_ys[step, slot])
        obs, obs_jac = dict(obs, extra=value), dict(obs_jac, extra=tangent)
    return obs, obs_jac, codes, num_steps
