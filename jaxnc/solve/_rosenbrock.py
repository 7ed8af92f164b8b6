"""Rosenbrock-W solvers: linearly implicit, one linear system per step and no Newton iteration,
so a step is straight-line code (quick to trace and compile, where an ESDIRK such as Kvaerno5
runs a nonlinear solve per stage, each its own `while_loop`).

A W-method keeps its order for *any* `W ~ I - g h J`; the solvers here take `W` from the term
they integrate ([`linearise`][jaxnc.solve.linearise]): a jaxnc model declares its Jacobian
structure (`model.jacobian`: the dense LU of a small system, or the factorised
local-times-transport `W` of a lattice, see `jaxnc.models`), any other term gets the dense
Jacobian. One step, `AbstractRosenbrockW.step`, serves every tableau; the solvers differ in
the tableau and in their dense output:

- [`ROS34PW2`][]: 3rd order, cubic Hermite dense output through both ends and their slopes
  (one more evaluation of the vector field per step), so saved times need not be solver
  points. For small systems: the `mean_field` default with its dense `W`.
- [`ROS34PW2AF`][]: the same tableau with linear dense output, so every save is a solver
  point (`simulate` steps to the save times): no extra evaluation, which on a lattice is a
  lattice solve of the exciton field. The `field` default with its factorised `W`.
- [`ROS2AF`][]: ROS2, 2nd order, linear dense output (cheaper steps, ~15x more of them).

ROS34PW2: Rang and Angermann, BIT 45, 761 (2005); ROS2: Verwer, Spee, Blom and Hundsdorfer,
SIAM J. Sci. Comput. 20, 1456 (1999). Both L-stable; steady states are kept exactly.
"""

from __future__ import annotations

from typing import ClassVar

import diffrax
import jax
import jax.numpy as jnp

from ._tableaux import ROS2_TABLEAU, ROS34PW2_TABLEAU, RosenbrockTableau
from ._terms import linearise

__all__ = ["AbstractRosenbrockW", "ROS34PW2", "ROS34PW2AF", "ROS2AF",
           "AbstractFactorizedRosenbrock"]


def _combine(coefficients, vectors):
    """`sum_j c_j v_j` leaf by leaf over stage vectors (pytrees of one structure)."""
    return jax.tree.map(lambda *leaves: sum(c * v for c, v in zip(coefficients, leaves,
                                                                  strict=True)), *vectors)


class AbstractRosenbrockW(diffrax.AbstractSolver):
    """A Rosenbrock-W method: its `tableau` ([`RosenbrockTableau`][jaxnc.solve.RosenbrockTableau]),
    its dense output, and `W` from the term. Forward in time (`t0 < t1`, as `simulate`
    integrates)."""

    tableau: ClassVar[RosenbrockTableau]
    term_structure: ClassVar = diffrax.AbstractTerm

    def order(self, terms):
        return self.tableau.order

    def init(self, terms, t0, t1, y0, args):
        return None

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        tab = self.tableau
        g, h = tab.gamma, t1 - t0
        system = linearise(terms, t0, t1, y0, args, g)
        us, ks, failed, f0 = [], [], jnp.zeros((), bool), None
        for i in range(tab.stages):
            increment = _combine(tab.a[i, :i], us) if i else None  # stage 1 is at y0
            f = system.rates(increment, tab.nodes[i])
            f0 = f if i == 0 else f0
            rhs = jax.tree.map(
                lambda fi, *kj, i=i: fi + sum(tab.c[i, j] * g * kj[j] for j in range(i)),
                f, *ks)
            k, fail = system.solve(rhs)
            ks.append(k)
            us.append(jax.tree.map(lambda kk: g * h * kk, k))
            failed = failed | fail
        end = _combine(tab.m, us)
        y1 = system.step_end(end)
        err = system.error(_combine(tab.m - tab.m_hat, us), failed)
        return y1, err, self._dense_info(system, y0, y1, h, f0, end), None, \
            diffrax.RESULTS.successful

    def _dense_info(self, system, y0, y1, h, f0, end) -> dict:
        return dict(y0=y0, y1=y1)


class ROS34PW2(AbstractRosenbrockW):
    """ROS34PW2 with cubic Hermite dense output: third order for any `W`, embedded
    second-order error estimate, L-stable, stiffly accurate. With a jaxnc model's term its `W`
    is the model's (`mean_field`: the exact dense Jacobian, one `n x n` LU per step); with any
    other diffrax `ODETerm`, over any pytree state, the dense Jacobian (`jax.jacfwd`). On a
    `SensitivityTerm` (states with their forward sensitivities) the term supplies `W`."""

    tableau: ClassVar[RosenbrockTableau] = ROS34PW2_TABLEAU
    interpolation_cls: ClassVar = diffrax.ThirdOrderHermitePolynomialInterpolation.from_k

    def _dense_info(self, system, y0, y1, h, f0, end) -> dict:
        f1 = system.rates(end, 1.0)  # at the step's end
        slopes = [jax.tree.map(lambda v: h * v, system.to_state(f)) for f in (f0, f1)]
        k = jax.tree.map(lambda a, b: jnp.stack([a, b]), *slopes)
        return dict(y0=y0, y1=y1, k=k)


class AbstractFactorizedRosenbrock(AbstractRosenbrockW):
    """Rosenbrock-W methods with linear dense output: every save is a solver point
    (`simulate` steps to the save times), so a step costs no evaluation of the vector field
    beyond its stages. The `field` model's default ([`ROS34PW2AF`][]); their `W` is the
    term's, for the `field` model the factorised `W = (I - g h J_transport)(I - g h J_local)`
    of `jaxnc.models.LocalTransportJacobian` (hence the name)."""

    interpolation_cls: ClassVar = diffrax.LocalLinearInterpolation


class ROS34PW2AF(AbstractFactorizedRosenbrock):
    """ROS34PW2 (Rang and Angermann 2005): 4 stages, third order for any W, embedded
    second-order error estimate, L-stable. At the same tolerance it takes ~15x fewer steps
    than [`ROS2AF`][] (4x4x2, rtol 1e-5: 305 against 4427) at twice the work per step."""

    tableau: ClassVar[RosenbrockTableau] = ROS34PW2_TABLEAU


class ROS2AF(AbstractFactorizedRosenbrock):
    """ROS2 (Verwer et al. 1999): 2 stages, second order for any W, L-stable
    (`g = 1 + 1/sqrt(2)`), embedded first-order estimate `y + h k1`."""

    tableau: ClassVar[RosenbrockTableau] = ROS2_TABLEAU
