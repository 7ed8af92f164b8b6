"""`simulate()`: integrate a model through a protocol, one diffrax solve per step, as one
compiled program per structure (lattice shape, model, solver, number of steps and saves;
not the order of light and dark steps)."""

from __future__ import annotations

import sys

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ParameterError, SolverError, is_concrete
from ..geometry import Assembly
from ..models import AbstractModel, State, get_model
from ..parameters import Parameters
from ..protocol import Protocol
from ._integrate import solve_at
from ._results import message
from ._settings import SolverSettings, solver_settings
from ._solution import Solution

__all__ = ["simulate"]


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
      order), `"kvaerno5"` ([`kvaerno5_solver`][]: Kvaerno5 with Newton on the dense Jacobian),
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
    # Long: the public signature and its docstring; the body is ~45 lines.
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
    model = get_model(model)
    model.optics.check(params)
    settings = solver_settings(
        model, solver, rtol, atol, max_steps,
        adjoint=diffrax.RecursiveCheckpointAdjoint() if adjoint is None else adjoint,
        # A bar only on a terminal: piped to a file, tqdm's redraws are line noise.
        progress_meter=(diffrax.TqdmProgressMeter() if progress and sys.stderr.isatty()
                        else diffrax.NoProgressMeter()),
    )
    # The protocol's arrays without its kinds: one program for every protocol of a length.
    time_h, states, obs, codes, num_steps = _solve(
        model, assembly, params, protocol.arrays, settings, int(saves_per_step), initial_state
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
