"""`optimize_design()`: gradient-based search for the gap and ligand length that maximise (or
minimise) a design metric under constraints on others.

All starts move together as one batch (one vmapped, sharded solve per iteration, with forward-
mode gradients through the solver). Bounds are kept by a smooth map from an unbounded variable,
`x = lo + (hi - lo) sigmoid(u)`; constraints by an augmented Lagrangian whose multipliers are
updated between rounds of Adam (optax) steps.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Sequence

import jax
import numpy as np
import optax

from .._errors import ParameterError
from ..geometry import Assembly
from ..models import AbstractModel
from ..parameters import Parameters
from ..protocol import Protocol
from ._assemblies import assembly_templates
from ._batching import Evaluator
from ._grid import GRADIENT_AXES
from ._metrics import METRICS, check_metrics, supported_metrics
from ._sweep import DEFAULT_PROTOCOL

__all__ = ["optimize_design", "DesignResult", "Constraint", "DEFAULT_BOUNDS"]

#: The sweep's default window: gaps from touching shells to wide open, DDAB-like ligands.
DEFAULT_BOUNDS = {"gap_nm": (1.5, 5.0), "ligand_nm": (1.0, 2.5)}
# Augmented-Lagrangian penalty weight (on constraints scaled by their bound) and rounds.
_PENALTY = 100.0
_ROUNDS = 5
# A constraint counts as met within this fraction of its bound (the penalty's residual).
_FEASIBILITY_RTOL = 1e-3
_AT_BOUND = 0.01


@dataclasses.dataclass(frozen=True)
class Constraint:
    """`metric op bound`, e.g. `Constraint("plqy_activated", ">=", 0.6)`."""

    metric: str
    op: str
    bound: float

    def __post_init__(self):
        if self.metric not in METRICS:
            raise ParameterError(f"constraint on unknown metric {self.metric!r}; choose from "
                                 f"{', '.join(METRICS)}")
        if self.op not in (">=", "<="):
            raise ParameterError(f"constraint operator must be >= or <=, got {self.op!r}")
        if not np.isfinite(self.bound):
            raise ParameterError(f"constraint bound must be finite, got {self.bound}")

    @classmethod
    def parse(cls, text: str) -> Constraint:
        """`"plqy_activated>=0.6"` or `"t90_activation_h <= 2"`."""
        m = re.fullmatch(r"\s*([A-Za-z0-9_]+)\s*(>=|<=)\s*([-+0-9.eE]+)\s*", str(text))
        if m is None:
            raise ParameterError(f"constraint {text!r}: expected METRIC>=VALUE or "
                                 f"METRIC<=VALUE, e.g. plqy_activated>=0.6")
        try:
            bound = float(m.group(3))
        except ValueError:
            raise ParameterError(f"constraint {text!r}: {m.group(3)!r} is not a number") from None
        return cls(m.group(1), m.group(2), bound)

    def scale(self) -> float:
        return abs(self.bound) if self.bound != 0 else 1.0

    def violation(self, value):
        """Scaled violation, <= 0 when met."""
        v = (self.bound - value) if self.op == ">=" else (value - self.bound)
        return v / self.scale()

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.bound:g}"


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


def _check_bounds(bounds) -> dict:
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
    if isinstance(protocol, str):
        protocol = Protocol.parse(protocol)
    if not isinstance(params, Parameters):
        raise ParameterError(f"params must be Parameters, got {type(params).__name__}")
    if objective not in METRICS:
        raise ParameterError(f"unknown objective {objective!r}; choose from "
                             f"{', '.join(METRICS)}")
    goal = METRICS[objective].goal if goal is None else goal
    if goal == "zero":
        raise ParameterError(f"{objective} is best at 0; constrain it instead (e.g. "
                             f"'{objective}>=-0.01') or give goal='max' or 'min'")
    if goal not in ("max", "min"):
        raise ParameterError(f"goal must be 'max' or 'min', got {goal!r}")
    constraints = [c if isinstance(c, Constraint) else Constraint.parse(c) for c in constraints]
    bounds = _check_bounds(bounds or {})
    if int(starts) < 1 or int(steps) < 1:
        raise ParameterError(f"starts and steps must be >= 1, got {starts}, {steps}")
    needed = {objective, *(c.metric for c in constraints)}
    check_metrics(sorted(needed), protocol)
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
    i_obj = metrics.index(objective)
    i_con = [metrics.index(c.metric) for c in constraints]
    sign = -1.0 if goal == "max" else 1.0  # minimise sign * objective

    rng = np.random.default_rng(seed)
    frac = np.vstack([np.full((1, 2), 0.5), rng.uniform(0.05, 0.95, (int(starts) - 1, 2))])
    u = np.log(frac / (1.0 - frac))
    n = u.shape[0]
    zeros = np.zeros(n)

    def evaluate(u):
        sig = 1.0 / (1.0 + np.exp(-u))
        x = lo + (hi - lo) * sig
        (values, jac, _, codes), errors = evaluator(None, x[:, 0], x[:, 1], zeros, zeros)
        dx_du = (hi - lo) * sig * (1.0 - sig)
        ok = np.all(codes == 0, axis=1) & np.isfinite(values[:, i_obj])
        return x, values, jac, dx_du, ok

    x0, values0, _, _, ok0 = evaluate(u)
    scale = float(np.median(np.abs(values0[ok0, i_obj]))) if ok0.any() else 1.0
    scale = scale if scale > 0 and np.isfinite(scale) else 1.0
    lam = np.zeros((n, len(constraints)))
    per_round = max(int(steps) // _ROUNDS, 1)
    schedule = optax.cosine_decay_schedule(learning_rate, int(steps), alpha=0.05)
    opt = optax.adam(schedule)
    state = opt.init(u)
    best = dict(loss=np.full(n, np.inf), x=x0.copy(), values=values0.copy())
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=int(steps), desc="design", unit="it", disable=None)
    t_start = time.perf_counter()
    try:
        for k in range(int(steps)):
            x, values, jac, dx_du, ok = evaluate(u)
            grad_x = sign * jac[:, i_obj, :] / scale
            violations = np.zeros((n, len(constraints)))
            for j, (c, i) in enumerate(zip(constraints, i_con, strict=True)):
                g = c.violation(values[:, i])
                violations[:, j] = g
                dg = (-1.0 if c.op == ">=" else 1.0) * jac[:, i, :] / c.scale()
                active = np.maximum(0.0, g + lam[:, j] / _PENALTY)
                grad_x = grad_x + _PENALTY * active[:, None] * dg
            feasible = np.all(violations <= _FEASIBILITY_RTOL, axis=1)
            # Keep each start's best feasible point; Adam's iterate itself wanders.
            score = np.where(feasible, sign * values[:, i_obj], np.inf)
            better = ok & (score < best["loss"])
            best["loss"] = np.where(better, score, best["loss"])
            best["x"][better], best["values"][better] = x[better], values[better]
            grad_u = np.where(ok[:, None], grad_x * dx_du, 0.0)
            updates, state = opt.update(grad_u, state, u)
            u = np.asarray(optax.apply_updates(u, updates))
            if (k + 1) % per_round == 0:
                lam = np.maximum(0.0, lam + _PENALTY * violations)
            if bar is not None:
                bar.update(1)
                finite = score[np.isfinite(score)]
                if finite.size:
                    bar.set_postfix({objective: f"{sign * finite.min():.4g}"})
    finally:
        if bar is not None:
            bar.close()
    # Final point of every start, then report the best start's best feasible point.
    x, values, _, _, ok = evaluate(u)
    viol = np.column_stack([c.violation(values[:, i]) for c, i in zip(constraints, i_con,
                                                                        strict=True)]
                           ) if constraints else np.zeros((n, 0))
    feasible = np.all(viol <= _FEASIBILITY_RTOL, axis=1)
    score = np.where(feasible & ok, sign * values[:, i_obj], np.inf)
    better = score < best["loss"]
    best["loss"] = np.where(better, score, best["loss"])
    best["x"][better], best["values"][better] = x[better], values[better]
    any_feasible = np.isfinite(best["loss"]).any()
    if any_feasible:
        winner = int(np.argmin(best["loss"]))
    else:  # none feasible: the least violating final point
        worst = np.max(viol, axis=1) if constraints else np.zeros(n)
        winner = int(np.argmin(np.where(ok, worst, np.inf)))
        best["x"][winner], best["values"][winner] = x[winner], values[winner]
    x_opt = best["x"][winner]
    (v_opt, j_opt, _, codes), _ = evaluator(None, x_opt[:1], x_opt[1:], zeros[:1], zeros[:1])
    v_opt, j_opt = v_opt[0], j_opt[0]
    report = []
    for c, i in zip(constraints, i_con, strict=True):
        report.append(dict(constraint=str(c), metric=c.metric, op=c.op, bound=c.bound,
                           value=float(v_opt[i]),
                           met=bool(c.violation(v_opt[i]) <= _FEASIBILITY_RTOL)))
    active = []
    for a, (lo_a, hi_a), xa in zip(GRADIENT_AXES, (bounds[a] for a in GRADIENT_AXES), x_opt,
                                   strict=True):
        # The sigmoid map reaches a bound only asymptotically: within 1 % of the range counts.
        if xa - lo_a < _AT_BOUND * (hi_a - lo_a):
            active.append(f"{a} at its lower bound {lo_a:g}")
        elif hi_a - xa < _AT_BOUND * (hi_a - lo_a):
            active.append(f"{a} at its upper bound {hi_a:g}")
    for entry, c in zip(report, constraints, strict=True):
        if abs(c.violation(entry["value"])) <= 10 * _FEASIBILITY_RTOL:
            active.append(f"constraint {c} active")
    return DesignResult(
        objective=objective, goal=goal, value=float(v_opt[i_obj]),
        optimum={a: float(v) for a, v in zip(GRADIENT_AXES, x_opt, strict=True)},
        gradient={a: float(j_opt[i_obj, k]) for k, a in enumerate(GRADIENT_AXES)},
        metrics={m: float(v_opt[i]) for i, m in enumerate(metrics)},
        constraints=report, feasible=all(r["met"] for r in report) and bool(np.all(codes == 0)),
        active=active,
        starts=[dict(start={a: float(v) for a, v in zip(GRADIENT_AXES, x0[s], strict=True)},
                     end={a: float(v) for a, v in zip(GRADIENT_AXES, x[s], strict=True)},
                     best={a: float(v) for a, v in zip(GRADIENT_AXES, best["x"][s],
                                                       strict=True)},
                     value=float(best["values"][s, i_obj]),
                     feasible=bool(np.isfinite(best["loss"][s])))
                for s in range(n)],
        bounds={a: list(b) for a, b in bounds.items()},
        settings=dict(evaluator.record, starts=int(starts), seed=int(seed), steps=int(steps),
                      learning_rate=float(learning_rate),
                      constraints=[str(c) for c in constraints],
                      devices=len(evaluator.devices)),
        wall_s=time.perf_counter() - t_start,
    )
