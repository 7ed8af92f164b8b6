"""Rosenbrock-W tableaux in the transformed form of Hairer and Wanner (IV.7), with `u_i = g h
k_i`:

    (I - g h J) k_i = f(y + sum_j a~_ij u_j) + sum_j c~_ij g k_j,    y1 = y + sum_i m_i u_i,

the embedded solution's `m^_i` giving the error estimate. The `c~_ij / h u_j` of the usual
form are `c~_ij g k_j` here, so nothing is divided by `h` (a vmapped solve steps its finished
members with `h = 0`, and `0 / 0` poisoned gradients)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

__all__ = ["RosenbrockTableau", "ROS34PW2_TABLEAU", "ROS2_TABLEAU"]


@dataclasses.dataclass(frozen=True, eq=False)
class RosenbrockTableau:
    """**Fields:** `gamma` (the diagonal `g`), `a` (`a~`, strictly lower), `c` (`c~`,
    strictly lower), `m`, `m_hat` (the solution's and the embedded solution's weights),
    `nodes` (stage times over `h`), `order` (of the solution, for any `W`)."""

    gamma: float
    a: np.ndarray
    c: np.ndarray
    m: np.ndarray
    m_hat: np.ndarray
    nodes: np.ndarray
    order: int

    @property
    def stages(self) -> int:
        return len(self.m)


def _transformed(gamma, a, gam, b, b_hat, order) -> RosenbrockTableau:
    """From the usual coefficients (`a`, `Gamma` with `gamma` on its diagonal, `b`, `b^`)."""
    gi = np.linalg.inv(gam)
    return RosenbrockTableau(gamma, a @ gi, np.diag(1.0 / np.diag(gam)) - gi, b @ gi,
                             b_hat @ gi, a.sum(axis=1), order)


def _ros34pw2() -> RosenbrockTableau:
    """ROS34PW2 (Rang and Angermann, BIT 45, 761, 2005): 4 stages, order 3 as a W-method
    (any W), embedded order 2, stiffly accurate, L-stable."""
    g = 4.3586652150845900e-1
    a = np.zeros((4, 4))
    a[1, 0] = 8.7173304301691801e-1
    a[2, 0], a[2, 1] = 8.4457060015369423e-1, -1.1299064236484185e-1
    a[3, 2] = 1.0
    gam = np.diag([g] * 4)
    gam[1, 0] = -8.7173304301691801e-1
    gam[2, 0], gam[2, 1] = -9.0338057013044082e-1, 5.4180672388095326e-2
    gam[3, 0], gam[3, 1], gam[3, 2] = (2.4212380706095346e-1, -1.2232505839045147,
                                       5.4526025533510214e-1)
    b = np.array([2.4212380706095346e-1, -1.2232505839045147, 1.5452602553351020, g])
    b_hat = np.array([3.7810903145819369e-1, -9.6042292212423178e-2, 0.5,
                      2.1793326075422950e-1])
    return _transformed(g, a, gam, b, b_hat, 3)


def _ros2() -> RosenbrockTableau:
    """ROS2 (Verwer, Spee, Blom and Hundsdorfer, SIAM J. Sci. Comput. 20, 1456, 1999): 2
    stages, second order for any W, L-stable with `g = 1 + 1/sqrt(2)`; `(I - g h J) k1 =
    f(y)`, `(I - g h J) k2 = f(y + h k1) - 2 k1`, `y1 = y + h (3/2 k1 + 1/2 k2)`, embedded
    first-order `y + h k1` (error `h/2 (k1 + k2)`), here in the transformed form."""
    g = 1.0 + 1.0 / math.sqrt(2.0)
    a = np.array([[0.0, 0.0], [1.0 / g, 0.0]])
    c = np.array([[0.0, 0.0], [-2.0 / g, 0.0]])
    m = np.array([1.5 / g, 0.5 / g])
    m_hat = m - np.array([0.5 / g, 0.5 / g])  # m - m^ is the error weight
    return RosenbrockTableau(g, a, c, m, m_hat, np.array([0.0, 1.0]), 2)


ROS34PW2_TABLEAU = _ros34pw2()
ROS2_TABLEAU = _ros2()
