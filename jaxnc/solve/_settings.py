"""How each protocol step is integrated: the solver (chosen once, from a name at the boundary or
a diffrax solver), its tolerances and limits, the adjoint."""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx

from ..errors import ParameterError, is_concrete
from ..models import AbstractModel
from ._rosenbrock import ROS2AF, ROS34PW2, ROS34PW2AF

__all__ = ["SolverSettings", "default_solver", "kvaerno5_solver", "resolve_solver",
           "default_tolerances", "solver_settings", "SOLVERS"]


def kvaerno5_solver() -> diffrax.AbstractSolver:
    """`Kvaerno5` with a full Newton root finder (`solver="kvaerno5"`; the default before the
    Rosenbrock-W methods, kept for small lattices at very tight tolerances).

    Kvaerno5 is an L-stable ESDIRK: the system is stiff (trap charging in seconds next to
    desorption over hundreds of hours). diffrax's default `VeryChord` iteration reuses one
    Jacobian; the charge factor `exp(alpha q)` is nonlinear enough that it then fails to
    converge and rejects most steps (1527 rejected of 2617 over 3 h of light on the default
    supercrystal, against 5 of 48 with `optx.Newton`).
    """
    return diffrax.Kvaerno5(root_finder=diffrax.with_stepsize_controller_tols(optx.Newton)())


SOLVERS = ("auto", "ros3", "ros2", "kvaerno5")
"""The solver names `simulate`, `fit`, `sweep` and the command line accept."""
# Default (rtol, atol) per solver. PLQY error against a tight reference, 4x4x2 field model over
# "light 3h; dark 300h": Kvaerno5 at 1e-7 9e-6; ROS34PW2 at 1e-6 1.1e-6; ROS2 at 1e-5 3.4e-5.
# mean_field, one curve of "light 3h; dark 300h" against ROS34PW2 at 1e-9: ROS34PW2 (dense) at
# 1e-6 2.2e-6, Kvaerno5 at 1e-7 8.4e-6.
DEFAULT_TOLERANCES = {"kvaerno5": (1e-7, 1e-10), "ros3": (1e-6, 1e-9), "ros2": (1e-5, 1e-8)}


def resolve_solver(solver, model: AbstractModel) -> diffrax.AbstractSolver:
    """A diffrax solver from a name (`"auto"`/None, `"ros3"`, `"ros2"`, `"kvaerno5"`) or a
    solver.

    `"ros3"` (and `"auto"`) is the third-order Rosenbrock-W method ROS34PW2, with the dense
    output the model's Jacobian structure calls for: linear ([`ROS34PW2AF`][], saves at
    solver steps) for a matrix-free structure (`field`), cubic Hermite ([`ROS34PW2`][]) for
    a dense one (`mean_field`). Either way its `W` is the one the model declares
    (`model.jacobian`). `"ros2"` is [`ROS2AF`][]; `"kvaerno5"` is [`kvaerno5_solver`][]
    (Kvaerno5, Newton on the dense Jacobian).
    """
    if isinstance(solver, diffrax.AbstractSolver):
        return solver
    name = "auto" if solver is None else solver
    if name in ("auto", "ros3"):
        return ROS34PW2AF() if model.jacobian.matrix_free else ROS34PW2()
    if name == "ros2":
        return ROS2AF()
    if name == "kvaerno5":
        return kvaerno5_solver()
    raise ParameterError(f"solver {solver!r} unknown; use one of {', '.join(SOLVERS)} or a "
                         f"diffrax solver")


def default_solver(model: AbstractModel | None = None) -> diffrax.AbstractSolver:
    """The solver used when none is named: `resolve_solver("auto", model)`; without a model,
    [`ROS34PW2`][] (dense output, any term)."""
    return ROS34PW2() if model is None else resolve_solver("auto", model)


def default_tolerances(solver: diffrax.AbstractSolver) -> tuple[float, float]:
    """`(rtol, atol)` used when none are given: (1e-6, 1e-9) for ROS34PW2 (either dense
    output), (1e-5, 1e-8) for ROS2, (1e-7, 1e-10) otherwise."""
    if isinstance(solver, ROS34PW2AF | ROS34PW2):
        return DEFAULT_TOLERANCES["ros3"]
    if isinstance(solver, ROS2AF):
        return DEFAULT_TOLERANCES["ros2"]
    return DEFAULT_TOLERANCES["kvaerno5"]


class SolverSettings(eqx.Module):
    """How each protocol step is integrated.

    **Fields:**

    - `solver`: a diffrax solver; default [`ROS34PW2`][] (`simulate`, `fit` and `sweep` build
      their settings with [`solver_settings`][], which takes the model's default).
    - `rtol`, `atol`: tolerances of the PID step-size controller (traced: changing them does
      not recompile); default ROS34PW2's, (1e-6, 1e-9).
    - `max_steps`: solver steps allowed per protocol step (static).
    - `step_to_saves`: end a solver step at every save time, so saved values are solver points
      rather than dense-output interpolations (static; always so for solvers whose dense
      output is only linear).
    - `adjoint`: diffrax adjoint for reverse-mode gradients; default
      `RecursiveCheckpointAdjoint()` (discretise-then-optimise, exact gradients of the
      discrete solve).
    - `progress_meter`: a diffrax progress meter (default none).
    """

    solver: diffrax.AbstractSolver = eqx.field(default_factory=lambda: ROS34PW2())
    rtol: jax.Array = eqx.field(default=DEFAULT_TOLERANCES["ros3"][0],
                                converter=lambda x: jnp.asarray(x, dtype=float))
    atol: jax.Array = eqx.field(default=DEFAULT_TOLERANCES["ros3"][1],
                                converter=lambda x: jnp.asarray(x, dtype=float))
    max_steps: int = eqx.field(static=True, default=16384)
    step_to_saves: bool = eqx.field(static=True, default=False)
    adjoint: diffrax.AbstractAdjoint = diffrax.RecursiveCheckpointAdjoint()
    progress_meter: diffrax.AbstractProgressMeter = diffrax.NoProgressMeter()


def solver_settings(model: AbstractModel, solver=None, rtol=None, atol=None,
                    max_steps: int = 16384, **fields) -> SolverSettings:
    """The one place a solver and its tolerances are resolved: `solver` by
    [`resolve_solver`][] (None: the model's default), `rtol`/`atol` by
    [`default_tolerances`][] where None; `fields` are the other [`SolverSettings`][] fields.

    **Raises:** `ParameterError` for an unknown solver, a tolerance that is not > 0 or
    `max_steps` < 1.
    """
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if tol is not None and is_concrete(tol) and not float(tol) > 0:
            raise ParameterError(f"{name} must be > 0, got {tol}")
    if int(max_steps) < 1:
        raise ParameterError(f"max_steps must be >= 1, got {max_steps}")
    solver = resolve_solver(solver, model)
    default_rtol, default_atol = default_tolerances(solver)
    return SolverSettings(solver=solver, rtol=default_rtol if rtol is None else rtol,
                          atol=default_atol if atol is None else atol,
                          max_steps=int(max_steps), **fields)
