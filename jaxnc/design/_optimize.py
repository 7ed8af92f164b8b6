"""`optimize_design()`: gradient-based search for the gap and ligand length that maximise (or
minimise) a design metric under constraints on others.

This module checks the problem and reports the optimum. The search itself (every start moved
together by Adam, bounds kept by a sigmoid map, constraints by an augmented Lagrangian) is in
`_search`; the constraints and their penalty are in `_constraints`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

import jax
import numpy as np

from ..errors import ParameterError
from ..geometry import Assembly
from ..models import AbstractModel
from ..parameters import Parameters
from ..protocol import Protocol
from ._assemblies import assembly_templates
from ._batching import Evaluator
from ._constraints import FEASIBILITY_RTOL, Constraint
from ._grid import GRADIENT_AXES
from ._metrics import METRICS, Goal, check_metrics, supported_metrics
from ._search import DesignProblem, SearchOutcome, initial_points, search
from ._sweep import DEFAULT_PROTOCOL

__all__ = ["optimize_design", "DesignResult", "DEFAULT_BOUNDS"]

DEFAULT_BOUNDS = {"gap_nm": (1.5, 5.0), "ligand_nm": (1.0, 2.5)}
"""The design search's default box (nm), the sweep's default window: gaps from touching
shells to wide open, DDAB-like ligands."""
# The sigmoid map reaches a bound only asymptotically: within this fraction of the range counts
# as at the bound.
_AT_BOUND = 0.01


@dataclasses.dataclass
class DesignResult:
    """The outcome of [`optimize_design`][].

    **Fields:**

    - `objective`, `goal` (`"max"`/`"min"`), `value`: the objective at the optimum.
    - `optimum`: `{"gap_nm": ..., "ligand_nm": ...}` (nm).
    - `gradient`: d objective / d gap and / d ligand at the optimum (objective units per nm).
    - `metrics`: every metric the protocol gives, at the optimum.
    - `constraints`: per constraint its value there and whether it is met.
    - `feasible`: all constraints met; `active`: bounds and constraints the optimum sits on
      (where a non-zero gradient is expected).
    - `starts`: each start's initial and final point, value and feasibility.
    - `bounds`, `settings`, `wall_s`.
    """

    objective: str
    goal: str
    value: float
    optimum: dict
    gradient: dict
    metrics: dict
    constraints: list
    feasible: bool
    active: list
    starts: list
    bounds: dict
    settings: dict
    wall_s: float

    def to_json(self) -> dict:
        return dataclasses.asdict(self)



def optimize_design(
    assembly_factory: Assembly | str | Callable[..., Assembly],
    params: Parameters,
    protocol: Protocol | str = DEFAULT_PROTOCOL,
    *,
    objective: str = "plqy_retained",
    goal: str | None = None,
    bounds: dict | None = None,
    constraints: Sequence[Constraint | str] = (),
    starts: int = 8,
    seed: int = 0,
    steps: int = 150,
    learning_rate: float = 0.3,
    model: str | AbstractModel = "mean_field",
    saves_per_step: int = 41,
    solver=None,
    rtol: float | None = None,
    atol: float | None = None,
    max_steps: int = 16384,
    devices: Sequence[jax.Device] | None = None,
    vector_width: int | None = None,
    progress: bool = True,
) -> DesignResult:
    """Find the gap and ligand length that optimise `objective` subject to `constraints`.

    **Arguments:**

    - `assembly_factory`, `params`, `protocol`, `model`, `saves_per_step`, `solver`, `rtol`,
      `atol`, `max_steps`, `devices`, `vector_width`: as in [`sweep`][].
    - `objective`: a metric name (`jaxnc.design.METRICS`); default `plqy_retained`.
    - `goal`: `"max"` or `"min"`; default the metric's own (e.g. max for PLQY, min for t90).
    - `bounds`: `{"gap_nm": (lo, hi), "ligand_nm": (lo, hi)}` in nm; default
      [`DEFAULT_BOUNDS`][] (1.5-5 nm gap, 1-2.5 nm ligand).
    - `constraints`: [`Constraint`][]s or text such as `"plqy_activated>=0.6"` (PLQY reached
      after the first light step, i.e. activation within that step's duration).
    - `starts`: starting points (the box centre, then uniform random draws from `seed`).
    - `steps`: Adam steps in all (split into rounds between multiplier updates);
      `learning_rate`: Adam's initial step in the unbounded variable (cosine-decayed to 5 %;
      a step of 0.3 moves at most 7.5 % of the range).

    **Returns:** a [`DesignResult`][].

    **Raises:** `ParameterError` for an unknown metric or goal, bad bounds or constraints.
    """
    protocol, goal, constraints, bounds = _check_problem(protocol, params, objective, goal,
                                                         constraints, bounds, starts, steps)
    # Every metric the protocol gives (the default sweep's set when it can), so the optimiser
    # and a default sweep share one compiled batch and the report lists them all.
    metrics = supported_metrics(protocol)
    lo = np.asarray([bounds[a][0] for a in GRADIENT_AXES])
    hi = np.asarray([bounds[a][1] for a in GRADIENT_AXES])
    templates = assembly_templates(assembly_factory, lo[0], lo[1], None)
    evaluator = Evaluator(templates, params, protocol, metrics, model=model, solver=solver,
                          rtol=rtol, atol=atol, max_steps=max_steps, gradients=True,
                          saves_per_step=saves_per_step, chunk_size=int(starts),
                          devices=devices, vector_width=vector_width)
    problem = DesignProblem(evaluator, metrics, lo, hi, constraints,
                            i_obj=metrics.index(objective),
                            i_con=[metrics.index(c.metric) for c in constraints],
                            sign=-1.0 if goal is Goal.MAX else 1.0)
    u = initial_points(starts, seed)
    first = problem.evaluate(u)  # the first batch (compiling it) is not counted in wall_s
    t_start = time.perf_counter()
    outcome = search(problem, u, first, int(steps), learning_rate, progress, objective)
    settings = dict(evaluator.record, starts=int(starts), seed=int(seed), steps=int(steps),
                    learning_rate=float(learning_rate),
                    constraints=[str(c) for c in constraints],
                    devices=len(evaluator.devices))
    return _report(problem, outcome, objective, goal.value, bounds, settings, t_start)


def _check_problem(protocol, params, objective: str, goal: str | None, constraints, bounds,
                   starts, steps) -> tuple[Protocol, Goal, list[Constraint], dict]:
    """The protocol (parsed from text), the goal (default the objective's own), the constraints
    (parsed from text) and the bounds (nm, defaults filled in), checked in that order.

    **Raises:** `ParameterError` for bad parameters, an unknown objective or goal, an
    objective best at 0, bad constraints or bounds, fewer than one start or step, or metrics
    the protocol cannot give.
    """
    if isinstance(protocol, str):
        protocol = Protocol.parse(protocol)
    if not isinstance(params, Parameters):
        raise ParameterError(f"params must be Parameters, got {type(params).__name__}")
    if objective not in METRICS:
        raise ParameterError(f"unknown objective {objective!r}; choose from "
                             f"{', '.join(METRICS)}")
    if goal is not None and goal not in ("max", "min"):
        raise ParameterError(f"goal must be 'max' or 'min', got {goal!r}")
    goal = METRICS[objective].goal if goal is None else Goal.parse(goal)
    if goal is Goal.ZERO:
        raise ParameterError(f"{objective} is best at 0; constrain it instead (e.g. "
                             f"'{objective}>=-0.01') or give goal='max' or 'min'")
    constraints = [c if isinstance(c, Constraint) else Constraint.parse(c) for c in constraints]
    bounds = _check_bounds(bounds or {})
    if int(starts) < 1 or int(steps) < 1:
        raise ParameterError(f"starts and steps must be >= 1, got {starts}, {steps}")
    needed = {objective, *(c.metric for c in constraints)}
    check_metrics(sorted(needed), protocol)
    return protocol, goal, constraints, bounds


def _check_bounds(bounds) -> dict:
    """`DEFAULT_BOUNDS` updated with the given `(low, high)` pairs (nm), each checked."""
    out = dict(DEFAULT_BOUNDS)
    for name, pair in dict(bounds).items():
        if name not in GRADIENT_AXES:
            raise ParameterError(f"bounds: {name!r} is not a design variable; use "
                                 f"{' and '.join(GRADIENT_AXES)}")
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise ParameterError(f"bounds {name}: expected (low, high), got {pair!r}") from None
        if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi):
            raise ParameterError(f"bounds {name}: need 0 < low < high, got ({lo}, {hi})")
        out[name] = (lo, hi)
    return out


def _report(problem: DesignProblem, outcome: SearchOutcome, objective: str, goal: str,
            bounds: dict, settings: dict, t_start: float) -> DesignResult:
    """The winning start's best point, solved once more for its metrics and gradient, with the
    bounds and constraints it sits on and every start's path; `wall_s` from `t_start`."""
    best, i_obj = outcome.best, problem.i_obj
    x_opt = best.x[outcome.winner]
    zeros = np.zeros(1)
    (v_opt, j_opt, _, codes), _ = problem.evaluator(None, x_opt[:1], x_opt[1:], zeros, zeros)
    v_opt, j_opt = v_opt[0], j_opt[0]
    report = []
    for c, i in zip(problem.constraints, problem.i_con, strict=True):
        report.append(dict(constraint=str(c), metric=c.metric, op=c.op, bound=c.bound,
                           value=float(v_opt[i]),
                           met=bool(c.violation(v_opt[i]) <= FEASIBILITY_RTOL)))
    return DesignResult(
        objective=objective, goal=goal, value=float(v_opt[i_obj]),
        optimum=_by_axis(x_opt),
        gradient={a: float(j_opt[i_obj, k]) for k, a in enumerate(GRADIENT_AXES)},
        metrics={m: float(v_opt[i]) for i, m in enumerate(problem.metrics)},
        constraints=report, feasible=all(r["met"] for r in report) and bool(np.all(codes == 0)),
        active=_active(bounds, x_opt, problem.constraints, report),
        starts=[dict(start=_by_axis(outcome.x0[s]), end=_by_axis(outcome.x[s]),
                     best=_by_axis(best.x[s]), value=float(best.values[s, i_obj]),
                     feasible=bool(np.isfinite(best.loss[s])))
                for s in range(len(outcome.x0))],
        bounds={a: list(b) for a, b in bounds.items()},
        settings=settings,
        wall_s=time.perf_counter() - t_start,
    )


def _by_axis(x) -> dict:
    """A point `(gap, ligand)` as `{"gap_nm": ..., "ligand_nm": ...}` (nm)."""
    return {a: float(v) for a, v in zip(GRADIENT_AXES, x, strict=True)}


def _active(bounds: dict, x_opt: np.ndarray, constraints: list[Constraint],
            report: list[dict]) -> list[str]:
    """The bounds the optimum `x_opt` (nm) sits on, then the constraints active there."""
    active = []
    for a, (lo_a, hi_a), xa in zip(GRADIENT_AXES, (bounds[a] for a in GRADIENT_AXES), x_opt,
                                   strict=True):
        if xa - lo_a < _AT_BOUND * (hi_a - lo_a):
            active.append(f"{a} at its lower bound {lo_a:g}")
        elif hi_a - xa < _AT_BOUND * (hi_a - lo_a):
            active.append(f"{a} at its upper bound {hi_a:g}")
    for entry, c in zip(report, constraints, strict=True):
        if abs(c.violation(entry["value"])) <= 10 * FEASIBILITY_RTOL:
            active.append(f"constraint {c} active")
    return active
