"""The multi-start search behind `optimize_design`: Adam steps on every start at once, with an
augmented Lagrangian for the constraints, keeping each start's best feasible point.

All starts move together as one batch (one vmapped, sharded solve per iteration, with forward-
mode gradients through the solver). Bounds are kept by a smooth map from an unbounded variable,
`x = lo + (hi - lo) sigmoid(u)`, so Adam works on `u` without limits.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import optax

from ._batching import Evaluator
from ._constraints import AugmentedLagrangian, Constraint, feasible, violations

__all__ = ["DesignProblem", "SearchOutcome", "initial_points", "search"]

# Rounds of Adam steps; the multipliers are updated after each.
_ROUNDS = 5


@dataclasses.dataclass(frozen=True)
class DesignProblem:
    """Minimise `sign * metrics[i_obj]` over the box `lo <= x <= hi` (nm; gap, then ligand
    length) subject to `constraints` (on `metrics[i_con[j]]`), every start evaluated as one
    batch of `evaluator`."""

    evaluator: Evaluator
    metrics: tuple
    lo: np.ndarray
    hi: np.ndarray
    constraints: list[Constraint]
    i_obj: int
    i_con: list[int]
    sign: float  # -1 to maximise, 1 to minimise

    def evaluate(self, u: np.ndarray):
        """Every start at unbounded `u` `(n, 2)`: its point `x` (nm), metric values `(n, M)`,
        their Jacobian `(n, M, 2)` (per nm), `dx/du` `(n, 2)` (nm) and whether its solve
        succeeded with a finite objective `(n,)`."""
        zeros = np.zeros(u.shape[0])
        sig = 1.0 / (1.0 + np.exp(-u))
        x = self.lo + (self.hi - self.lo) * sig
        (values, jac, _, codes), _ = self.evaluator(None, x[:, 0], x[:, 1], zeros, zeros)
        dx_du = (self.hi - self.lo) * sig * (1.0 - sig)
        ok = np.all(codes == 0, axis=1) & np.isfinite(values[:, self.i_obj])
        return x, values, jac, dx_du, ok


def initial_points(starts: int, seed: int) -> np.ndarray:
    """Unbounded start points `(starts, 2)`: the box centre, then uniform draws over 5-95 % of
    each range from `seed`."""
    rng = np.random.default_rng(seed)
    frac = np.vstack([np.full((1, 2), 0.5), rng.uniform(0.05, 0.95, (int(starts) - 1, 2))])
    return np.log(frac / (1.0 - frac))


@dataclasses.dataclass
class _Best:
    """Each start's best feasible point so far: its loss (`sign * objective`, inf until one
    is found), point `(n, 2)` (nm) and metric values `(n, M)`."""

    loss: np.ndarray
    x: np.ndarray
    values: np.ndarray

    def keep(self, better: np.ndarray, score: np.ndarray, x: np.ndarray,
             values: np.ndarray) -> None:
        self.loss = np.where(better, score, self.loss)
        self.x[better], self.values[better] = x[better], values[better]


@dataclasses.dataclass
class SearchOutcome:
    """Per start: its initial point `x0`, final iterate `x` (nm, `(n, 2)`), and best point;
    `winner` is the start reported as the optimum."""

    x0: np.ndarray
    x: np.ndarray
    best: _Best
    winner: int


def search(problem: DesignProblem, u: np.ndarray, first, steps: int, learning_rate: float,
           progress: bool, objective: str) -> SearchOutcome:
    """`steps` Adam steps from unbounded starts `u`, whose evaluation `first` (as
    `DesignProblem.evaluate` gives it) the caller has made already.

    The objective is divided by the median size of its first values, so it is of order 1 like
    the constraints (scaled by their bounds) and the penalty weight means the same whatever the
    metric. The Adam iterate wanders, so each start keeps its best
    feasible point along the way; the final iterates are folded in before the winner is picked.
    """
    x0, values0, _, _, ok0 = first
    n = u.shape[0]
    i_obj, sign = problem.i_obj, problem.sign
    scale = float(np.median(np.abs(values0[ok0, i_obj]))) if ok0.any() else 1.0
    scale = scale if scale > 0 and np.isfinite(scale) else 1.0
    penalty = AugmentedLagrangian(problem.constraints, problem.i_con, n)
    per_round = max(int(steps) // _ROUNDS, 1)
    schedule = optax.cosine_decay_schedule(learning_rate, int(steps), alpha=0.05)
    opt = optax.adam(schedule)
    state = opt.init(u)
    best = _Best(loss=np.full(n, np.inf), x=x0.copy(), values=values0.copy())
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=int(steps), desc="design", unit="it", disable=None)
    try:
        for k in range(int(steps)):
            x, values, jac, dx_du, ok = problem.evaluate(u)
            viol = violations(problem.constraints, problem.i_con, values)
            grad_x = penalty.add_gradient(sign * jac[:, i_obj, :] / scale, viol, jac)
            # Keep each start's best feasible point; Adam's iterate itself wanders.
            score = np.where(feasible(viol), sign * values[:, i_obj], np.inf)
            best.keep(ok & (score < best.loss), score, x, values)
            grad_u = grad_x * dx_du
            grad_u = np.where(ok[:, None] & np.isfinite(grad_u), grad_u, 0.0)
            updates, state = opt.update(grad_u, state, u)
            u = np.asarray(optax.apply_updates(u, updates))
            if (k + 1) % per_round == 0:
                penalty.update_multipliers(viol)
            if bar is not None:
                bar.update(1)
                finite = score[np.isfinite(score)]
                if finite.size:
                    bar.set_postfix({objective: f"{sign * finite.min():.4g}"})
    finally:
        if bar is not None:
            bar.close()
    x, winner = _pick_winner(problem, u, best)
    return SearchOutcome(x0=x0, x=x, best=best, winner=winner)


def _pick_winner(problem: DesignProblem, u: np.ndarray, best: _Best) -> tuple[np.ndarray, int]:
    """Fold every start's final iterate into `best`, then pick the start with the best feasible
    point; if none is feasible, the final point that violates least (copied into `best`).
    Returns the final iterates `(n, 2)` (nm) and the winner's index."""
    x, values, _, _, ok = problem.evaluate(u)
    viol = violations(problem.constraints, problem.i_con, values)
    score = np.where(feasible(viol) & ok, problem.sign * values[:, problem.i_obj], np.inf)
    best.keep(score < best.loss, score, x, values)
    if np.isfinite(best.loss).any():
        return x, int(np.argmin(best.loss))
    # None feasible: the least violating final point.
    worst = np.max(viol, axis=1) if problem.constraints else np.zeros(len(x))
    winner = int(np.argmin(np.where(ok, worst, np.inf)))
    best.x[winner], best.values[winner] = x[winner], values[winner]
    return x, winner
