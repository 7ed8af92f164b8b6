"""`simulate()`: integrate a model through a protocol, one diffrax solve per step."""

from __future__ import annotations

import sys

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jax.flatten_util import ravel_pytree

from ..errors import ParameterError, SolverError, is_concrete
from ..geometry import Assembly
from ..models import AbstractModel, State, get_model
from ..parameters import Parameters
from ..protocol import Protocol
from ._results import message, result_code
from ._rosenbrock import ROS34PW2
from ._solution import Solution
from ._split import ROS2AF, ROS34PW2AF, AbstractFactorizedRosenbrock
from ._term import ModelTerm

__all__ = ["simulate", "solve_at", "SolverSettings", "default_solver", "resolve_solver",
           "default_tolerances"]

# First trial step (h): about the time trap charging takes (seconds), so the controller grows it.
DT0_H = 1e-4


def default_solver() -> diffrax.AbstractSolver:
    """`Kvaerno5` with a full Newton root finder.

    Kvaerno5 is an L-stable ESDIRK: the system is stiff (trap charging in seconds next to
    desorption over hundreds of hours). diffrax's default `VeryChord` iteration reuses one
    Jacobian; the charge factor `exp(alpha q)` is nonlinear enough that it then fails to
    converge and rejects most steps (1527 rejected of 2617 over 3 h of light on the default
    supercrystal, against 5 of 48 with `optx.Newton`).
    """
    return diffrax.Kvaerno5(root_finder=diffrax.with_stepsize_controller_tols(optx.Newton)())


SOLVERS = ("auto", "ros3", "ros2", "kvaerno5")
# Default (rtol, atol) per solver. PLQY error against a tight reference, 4x4x2 field model over
# "light 3h; dark 300h": Kvaerno5 at 1e-7 9e-6; ROS34PW2 at 1e-6 1.1e-6; ROS2 at 1e-5 3.4e-5.
# mean_field, one curve of "light 3h; dark 300h" against ROS34PW2 at 1e-9: ROS34PW2 (dense) at
# 1e-6 2.2e-6, Kvaerno5 at 1e-7 8.4e-6.
DEFAULT_TOLERANCES = {"kvaerno5": (1e-7, 1e-10), "ros3": (1e-6, 1e-9), "ros2": (1e-5, 1e-8)}


def resolve_solver(solver, model: AbstractModel) -> diffrax.AbstractSolver:
    """A diffrax solver from a name (`"auto"`/None, `"ros3"`, `"ros2"`, `"kvaerno5"`) or a
    solver.

    `"ros3"` is the third-order Rosenbrock method ROS34PW2: matrix-free with the factorised
    `W` ([`ROS34PW2AF`][]) for the `field` model, with the exact dense Jacobian
    ([`ROS34PW2`][]) for any other model (small systems). `"auto"` is `"ros3"`. `"ros2"` is
    [`ROS2AF`][]; `"kvaerno5"` is [`default_solver`][] (Kvaerno5, Newton on the dense
    Jacobian). `model` only makes the choice: the Rosenbrock-W solvers integrate the model of
    the [`ModelTerm`][] they are given.
    """
    if isinstance(solver, diffrax.AbstractSolver):
        return solver
    name = "auto" if solver is None else solver
    if name in ("auto", "ros3"):
        return ROS34PW2AF() if model.name == "field" else ROS34PW2()
    if name == "ros2":
        return ROS2AF()
    if name == "kvaerno5":
        return default_solver()
    raise ParameterError(f"solver {solver!r} unknown; use one of {', '.join(SOLVERS)} or a "
                         f"diffrax solver")


def default_tolerances(solver: diffrax.AbstractSolver) -> tuple[float, float]:
    """`(rtol, atol)` used when none are given: (1e-6, 1e-9) for ROS34PW2 (either form),
    (1e-5, 1e-8) for ROS2, (1e-7, 1e-10) otherwise."""
    if isinstance(solver, (ROS34PW2AF, ROS34PW2)):
        return DEFAULT_TOLERANCES["ros3"]
    if isinstance(solver, ROS2AF):
        return DEFAULT_TOLERANCES["ros2"]
    return DEFAULT_TOLERANCES["kvaerno5"]


class SolverSettings(eqx.Module):
    """How each protocol step is integrated.

    **Fields:**

    - `solver`: a diffrax solver; default [`default_solver`][].
    - `rtol`, `atol`: tolerances of the PID step-size controller (traced: changing them does
      not recompile).
    - `max_steps`: solver steps allowed per protocol step (static).
    - `step_to_saves`: end a solver step at every save time, so saved values are solver points
      rather than dense-output interpolations (static; always so for solvers whose dense
      output is only linear).
    - `adjoint`: diffrax adjoint for reverse-mode gradients; default
      `RecursiveCheckpointAdjoint()` (discretise-then-optimise, exact gradients of the
      discrete solve).
    """

    solver: diffrax.AbstractSolver = eqx.field(default_factory=lambda: default_solver())
    rtol: jax.Array = eqx.field(default=1e-7, converter=lambda x: jnp.asarray(x, dtype=float))
    atol: jax.Array = eqx.field(default=1e-10, converter=lambda x: jnp.asarray(x, dtype=float))
    max_steps: int = eqx.field(static=True, default=16384)
    step_to_saves: bool = eqx.field(static=True, default=False)
    adjoint: diffrax.AbstractAdjoint = diffrax.RecursiveCheckpointAdjoint()
    progress_meter: diffrax.AbstractProgressMeter = diffrax.NoProgressMeter()


def solve_at(model: AbstractModel, assembly, params, protocol, settings, local_times_h,
             initial_state=None):
    """Integrate through `protocol`, saving at `local_times_h[k]` (h from step `k`'s start).

    `local_times_h` has shape `(n_steps, K)`, each row non-decreasing within
    `[0, duration_k]`; the last entry of every row must be the step's end (the next step
    starts from it). Returns per-step saved states and observables, shapes `(n_steps, K, ...)`,
    the diffrax result code per step and the solver steps per step. Traceable: the fitter
    calls it under `jit`, `grad` and `vmap`.

    Not jitted itself: its callers jit whole programs, and a `jit` boundary here made JAX
    trace the solve again for every transformation around it (the fit's Jacobian program
    traced in 6.9 s with it, 4.9 s without).
    """
    cells = model.cells(assembly, params)
    y0 = model.initial_state(cells, params) if initial_state is None else initial_state
    probe = model.probe_weight(cells, assembly, params)
    # The factorised Rosenbrock-W solvers integrate this term's model part by part; every
    # other solver gets the state as one flat vector (a smaller program; see ModelTerm).
    flat = not isinstance(settings.solver, AbstractFactorizedRosenbrock)
    if flat:
        y0, unravel = ravel_pytree(y0)
        term = ModelTerm(model, unravel)
    else:
        term = ModelTerm(model)
    pid = diffrax.PIDController(rtol=settings.rtol, atol=settings.atol)

    def one_step(y, drive):
        duration_h, wavelength_nm, irradiance, temperature_k, ts = drive
        # A solver whose dense output is only linear steps to every save time instead.
        linear = settings.solver.interpolation_cls is diffrax.LocalLinearInterpolation
        to_saves = linear or settings.step_to_saves
        controller = diffrax.ClipStepSizeController(pid, step_ts=ts) if to_saves else pid
        co = model.coefficients(cells, assembly, params, wavelength_nm, irradiance,
                                temperature_k)
        sol = diffrax.diffeqsolve(
            term,
            settings.solver,
            t0=0.0,
            t1=duration_h,
            dt0=DT0_H,
            y0=y,
            args=co,
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=controller,
            adjoint=settings.adjoint,
            max_steps=settings.max_steps,
            throw=False,
            progress_meter=settings.progress_meter,
        )
        y_end = jax.tree.map(lambda a: a[-1], sol.ys)
        return y_end, (sol.ys, result_code(sol.result, sol.ys), sol.stats["num_steps"])

    _, (ys, codes, num_steps) = jax.lax.scan(one_step, y0, step_drives(protocol, local_times_h))
    if flat:
        ys = jax.vmap(jax.vmap(unravel))(ys)
    obs = jax.vmap(jax.vmap(lambda y: model.observables(y, cells, probe, params)))(ys)
    return ys, obs, codes, num_steps


def step_drives(protocol, local_times_h):
    """What `lax.scan` feeds each protocol step: duration (h), wavelength (nm), irradiance
    (mW/cm²), temperature (K) and the step's local save times (h)."""
    return (protocol.duration_h, protocol.wavelength_nm, protocol.irradiance_mw_cm2,
            protocol.temperature_k, local_times_h)


@eqx.filter_jit
def _solve(model: AbstractModel, assembly, params, protocol, settings, saves_per_step: int,
           initial_state):
    fractions = jnp.linspace(0.0, 1.0, saves_per_step)
    local = protocol.duration_h[:, None] * fractions[None, :]
    ys, obs, codes, num_steps = solve_at(model, assembly, params, protocol, settings, local,
                                         initial_state)
    # Leaves are (steps, saves, ...). Drop each later step's first save: it repeats the
    # previous step's last one.
    def join(a):
        return jnp.concatenate([a[0], a[1:, 1:].reshape((-1,) + a.shape[2:])], axis=0)

    starts = jnp.concatenate([jnp.zeros(1), jnp.cumsum(protocol.duration_h)[:-1]])
    time_h = join(starts[:, None] + local)
    return time_h, jax.tree.map(join, ys), jax.tree.map(join, obs), codes, num_steps


def _step_index(n_steps: int, saves_per_step: int) -> np.ndarray:
    first = np.zeros(saves_per_step, dtype=int)
    rest = np.repeat(np.arange(1, n_steps), saves_per_step - 1)
    return np.concatenate([first, rest])


def simulate(
    assembly: Assembly,
    params: Parameters,
    protocol: Protocol | str,
    model: str | AbstractModel = "field",
    *,
    saves_per_step: int = 61,
    rtol: float | None = None,
    atol: float | None = None,
    max_steps: int = 16384,
    solver: diffrax.AbstractSolver | str | None = None,
    adjoint: diffrax.AbstractAdjoint | None = None,
    throw: bool = True,
    progress: bool = False,
    initial_state: State | None = None,
) -> Solution:
    """Simulate an assembly through a protocol.

    Each protocol step is a fixed-duration diffrax solve (no terminating events, so gradients
    flow through the whole protocol); the steps run in one jitted `lax.scan`, so changing a
    value (a rate, a gap, a duration, a tolerance) does not recompile.

    **Arguments:**

    - `assembly`: an [`Assembly`][].
    - `params`: [`Parameters`][], e.g. `Parameters.hashimoto2024()`.
    - `protocol`: a [`Protocol`][] or protocol text (`"light 468nm 3h; dark 600h at 298K"`).
    - `model`: `"field"` (full lattice), `"mean_field"` (one cube per layer) or a model instance.
    - `saves_per_step`: saved times per step, evenly spaced, including both ends.
    - `rtol`, `atol`: step-size controller tolerances (on coverage, charge and free ligand,
      all O(1) quantities); default per solver: (1e-6, 1e-9) for ROS34PW2, (1e-7, 1e-10) for
      Kvaerno5 (see [`default_tolerances`][]).
    - `max_steps`: solver steps allowed per protocol step.
    - `solver`: `"ros3"`, the default: ROS34PW2, third order, matrix-free for `field`
      ([`ROS34PW2AF`][]: O(N) memory and work per step) and with the exact dense Jacobian for
      `mean_field` ([`ROS34PW2`][]), whose systems are small; `"ros2"` ([`ROS2AF`][], second
      order), `"kvaerno5"` ([`default_solver`][]: Kvaerno5 with Newton on the dense Jacobian),
      or any diffrax solver.
    - `adjoint`: a diffrax adjoint (default `RecursiveCheckpointAdjoint()`).
    - `initial_state`: a `jaxnc.models.State` to start from instead of the parameter set's
      (`coverage_initial`, no charge, `free_ligand_initial` scaled by enclosure); its arrays
      must have the model's cell shape (e.g. the `final_state` of an earlier solution).
    - `progress`: show a tqdm progress bar for each protocol step (on a terminal only).
    - `throw`: raise `SolverError` if a step fails; if False the failure is recorded in
      `Solution.status` and the affected values are NaN/inf.

    **Returns:** a [`Solution`][] with `time_h`, `plqy`, `lifetime_ns`, ligand totals and the
    per-cell fields at the saved times.

    **Raises:** `SolverError` naming the failed step and what to try; `ParameterError` for
    bad arguments.
    """
    if isinstance(protocol, str):
        protocol = Protocol.parse(protocol)
    if not isinstance(assembly, Assembly):
        raise ParameterError(f"assembly must be an Assembly, got {type(assembly).__name__}")
    if not isinstance(params, Parameters):
        raise ParameterError(f"params must be Parameters, got {type(params).__name__}")
    if not isinstance(protocol, Protocol):
        raise ParameterError(f"protocol must be a Protocol or text, got {type(protocol).__name__}")
    if int(saves_per_step) < 2:
        raise ParameterError(f"saves_per_step must be >= 2, got {saves_per_step}")
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if tol is None:
            continue
        if is_concrete(tol) and not float(tol) > 0:
            raise ParameterError(f"{name} must be > 0, got {tol}")
    model = get_model(model)
    model.optics.check(params)
    solver = resolve_solver(solver, model)
    default_rtol, default_atol = default_tolerances(solver)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    settings = SolverSettings(
        solver=solver,
        rtol=rtol,
        atol=atol,
        max_steps=int(max_steps),
        adjoint=diffrax.RecursiveCheckpointAdjoint() if adjoint is None else adjoint,
        # A bar only on a terminal: piped to a file, tqdm's redraws are line noise.
        progress_meter=(diffrax.TqdmProgressMeter() if progress and sys.stderr.isatty()
                        else diffrax.NoProgressMeter()),
    )
    time_h, states, obs, codes, num_steps = _solve(
        model, assembly, params, protocol, settings, int(saves_per_step), initial_state
    )
    ok = codes == 0
    if throw:
        if is_concrete(ok):
            _raise_if_failed(np.asarray(codes), protocol, settings)
        else:
            obs = dict(obs)
            obs["plqy"] = eqx.error_if(
                obs["plqy"], jnp.any(~ok),
                "jaxnc: a protocol step failed to integrate; rerun outside jit/grad to see "
                "which, or try a larger max_steps or looser rtol/atol",
            )
    return Solution(
        time_h=time_h,
        plqy=obs["plqy"],
        lifetime_ns=obs["lifetime_ns"],
        ligand_adsorbed=obs["ligand_adsorbed"],
        ligand_free=obs["ligand_free"],
        ligand_lost=obs["ligand_lost"],
        coverage=states.coverage,
        charge=states.charge,
        free_ligand=states.free_ligand,
        damage=states.damage,
        step_index=jnp.asarray(_step_index(protocol.n_steps, int(saves_per_step))),
        step_ok=ok,
        solver_steps=num_steps,
        model=model.name,
        kinds=protocol.kinds,
        source=(model, assembly, params),
    )


def _raise_if_failed(codes: np.ndarray, protocol: Protocol, settings: SolverSettings) -> None:
    for k, code in enumerate(codes):
        if code != 0:
            step = protocol.steps[k]
            raise SolverError(
                f"protocol step {k + 1} ({step}) failed: {message(code)} "
                f"(max_steps={settings.max_steps}, rtol={float(settings.rtol):g}, "
                f"atol={float(settings.atol):g}). Try a larger max_steps or looser tolerances "
                f"(below rtol ~1e-9 float64 round-off in the fast trap-charging rate can stall "
                f"the step-size controller under light), or check the parameters for extreme "
                f"values."
            )
