"""Design constraints (`metric >= bound`, `metric <= bound`) and how the search enforces them.

Each constraint is scaled by its bound, `g = (bound - value) / |bound|` for `>=` (the other
sign for `<=`), so `g <= 0` where it is met. The search adds an augmented-Lagrangian penalty
`(mu / 2) max(0, g + lambda / mu)^2` per constraint to its loss and raises the multipliers
`lambda <- max(0, lambda + mu g)` between rounds of Adam steps.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from ..errors import ParameterError
from ._metrics import METRICS

__all__ = ["Constraint", "AugmentedLagrangian", "violations", "feasible", "FEASIBILITY_RTOL"]

# Augmented-Lagrangian penalty weight `mu` (on constraints scaled by their bound).
_PENALTY = 100.0
# A constraint counts as met within this fraction of its bound (the penalty's residual).
FEASIBILITY_RTOL = 1e-3


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


def violations(constraints: list[Constraint], i_con: list[int], values: np.ndarray) -> np.ndarray:
    """Scaled violations `(n, C)` of every start, given metric values `(n, M)` and each
    constraint's metric index `i_con`."""
    out = np.zeros((values.shape[0], len(constraints)))
    for j, (c, i) in enumerate(zip(constraints, i_con, strict=True)):
        out[:, j] = c.violation(values[:, i])
    return out


def feasible(violations: np.ndarray) -> np.ndarray:
    """Per start `(n,)`: every constraint met (within `FEASIBILITY_RTOL` of its bound)."""
    return np.all(violations <= FEASIBILITY_RTOL, axis=1)


class AugmentedLagrangian:
    """The constraints' penalty on the search loss, with one multiplier per start and
    constraint (`lam`, `(n, C)`, starting at 0).

    A constraint whose metric is not finite at a start (a t90 or half-life that is undefined
    where the PLQY is locked or lost) counts as unmet (`feasible` is False there) but adds no
    gradient and leaves that multiplier as it was: a NaN there would stay in the multiplier
    and in Adam's state for the rest of the search.
    """

    def __init__(self, constraints: list[Constraint], i_con: list[int], n_starts: int):
        self.constraints, self.i_con = constraints, i_con
        self.lam = np.zeros((n_starts, len(constraints)))

    def add_gradient(self, grad_x: np.ndarray, violations: np.ndarray,
                     jac: np.ndarray) -> np.ndarray:
        """`grad_x` `(n, 2)` (loss per nm) plus the penalty's gradient, given the current
        `violations` `(n, C)` and the metrics' Jacobian `jac` `(n, M, 2)` (per nm)."""
        for j, (c, i) in enumerate(zip(self.constraints, self.i_con, strict=True)):
            dg = (-1.0 if c.op == ">=" else 1.0) * jac[:, i, :] / c.scale()
            active = np.maximum(0.0, violations[:, j] + self.lam[:, j] / _PENALTY)
            term = _PENALTY * active[:, None] * dg
            known = np.isfinite(violations[:, j])[:, None] & np.all(np.isfinite(dg), axis=1,
                                                                    keepdims=True)
            grad_x = grad_x + np.where(known, term, 0.0)
        return grad_x

    def update_multipliers(self, violations: np.ndarray) -> None:
        """End of a round: raise each multiplier by the penalty weight times its violation."""
        raised = np.maximum(0.0, self.lam + _PENALTY * violations)
        self.lam = np.where(np.isfinite(violations), raised, self.lam)
