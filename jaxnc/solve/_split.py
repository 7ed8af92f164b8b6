"""A matrix-free stiff solver for the `field` model: linearly implicit ROS2 with an
approximately factorised Jacobian, O(N) memory and work per step.

The vector field splits into local kinetics (trap charging, adsorption, desorption, escape:
the same small system in every cube) and transport of free ligand between cubes (linear). ROS2
(Verwer, Spee, Blom and Hundsdorfer, SIAM J. Sci. Comput. 20, 1456, 1999) needs only linear
solves with a matrix `W ~ I - g h J`, and is second order for *any* `W`; here

    W = (I - g h J_transport) (I - g h J_local),

so each solve is a closed-form 3x3 solve per cube (the local Jacobian blocks come from three
forward-mode products, all cubes at once) and a symmetric positive definite transport solve by
conjugate gradients (lineax) preconditioned with a DCT-II solve — the exact inverse of the
cell-centred Neumann Laplacian on a full box — so the iteration count hardly grows with the
lattice. ROS2 is L-stable (`g = 1 + 1/sqrt(2)`), keeps steady states exactly, and its embedded
first-order solution gives the error estimate that diffrax's PID controller turns into step
sizes: `rtol` and `atol` mean what they mean for any adaptive solver (PLQY error about 3 rtol,
measured against the dense path).

Why not a splitting: Strang splitting (SDIRK2 for each part, step-doubling error control) was
tried first. With transport much faster than the steps, a splitting leaves an error that does
not shrink with the step (it does not preserve the quasi-steady free-ligand profile); its
step-doubling estimate then stalls the controller (16384 steps in one 600 h dark step on a
leaky lattice at rtol 1e-7). ROS2 with the factorised W has no such floor.

Ligand is conserved to round-off: both factors of `W` keep the weighted ligand total (the
local one includes the escaped ligand per cube; the transport solve is corrected for its CG
residual). Gradients: every piece is differentiable (CG through lineax's implicit rule), so
diffrax's `RecursiveCheckpointAdjoint(checkpoints=...)` and `ForwardMode` work as with any
diffrax solver.
"""

from __future__ import annotations

import math
from typing import ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
from jax.scipy.fft import dctn, idctn

from ..models import AbstractModel, State
from ..physics.excitons import neumann_eigenvalues
from ._term import model_of

__all__ = ["AbstractFactorizedRosenbrock", "ROS2AF", "ROS34PW2AF"]


def _solve3(m, r):
    """Solve the 3x3 systems `m x = r` cell by cell (Cramer's rule).

    `m[i][j]` and `r[i]` are arrays of cell values.
    """
    (a, b, c), (d, e, f), (g, h, i) = m
    co_a, co_b, co_c = e * i - f * h, -(d * i - f * g), d * h - e * g
    det = a * co_a + b * co_b + c * co_c
    inv = (
        (co_a, -(b * i - c * h), b * f - c * e),
        (co_b, a * i - c * g, -(a * f - c * d)),
        (co_c, -(a * h - b * g), a * e - b * d),
    )
    return tuple(sum(inv[row][k] * r[k] for k in range(3)) / det for row in range(3))


GAMMA_ROS2 = 1.0 + 1.0 / math.sqrt(2.0)


class AbstractFactorizedRosenbrock(diffrax.AbstractSolver):
    """Rosenbrock-W methods for a jaxnc model with the factorised
    `W = (I - g h J_transport)(I - g h J_local)` (see the module docstring).

    The model is the term's: these solvers integrate a [`ModelTerm`][] (what `simulate` and
    `solve_at` build), reading its model's `local_rates` and `transport_rate`; any other term is
    a `TypeError`. Forward in time only (`t0 < t1`, as `solve_at` integrates).

    **Fields:** `cg_rtol`, `cg_atol` (ML), `cg_max_steps`: the transport solves, far tighter
    than the time-stepping error (a failed solve makes the step fail its error test, so it is
    retried smaller).
    """

    cg_rtol: float = eqx.field(static=True, default=1e-10)
    cg_atol: float = eqx.field(static=True, default=1e-14)
    cg_max_steps: int = eqx.field(static=True, default=200)

    term_structure: ClassVar = diffrax.AbstractTerm
    interpolation_cls: ClassVar = diffrax.LocalLinearInterpolation

    def init(self, terms, t0, t1, y0, args):
        self._model(terms)  # a wrong term fails here, before any step
        return None

    def _model(self, terms) -> AbstractModel:
        return model_of(terms, type(self).__name__)

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)


class ROS2AF(AbstractFactorizedRosenbrock):
    """ROS2 (Verwer et al. 1999): 2 stages, second order for any W, L-stable
    (`g = 1 + 1/sqrt(2)`), embedded first-order estimate `y + h k1`."""

    def order(self, terms):
        return 2

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        h = t1 - t0
        x0 = (y0.coverage, y0.charge, y0.free_ligand)
        model = self._model(terms)
        d_damage = model.damage_rate(args)  # constant through the step: integrated exactly
        rates, solve_w = _factorized(model, args, GAMMA_ROS2 * h, x0, self, y0.damage)
        f1 = rates(x0, at_start=True)
        k1, l1, bad1 = solve_w(f1)
        x_mid = tuple(x0[i] + h * k1[i] for i in range(3))
        f2 = rates(x_mid, damage=y0.damage + h * d_damage)  # the stage at t0 + h
        k2, l2, bad2 = solve_w(tuple(f2[i] - 2.0 * k1[i] for i in range(3))
                               + (f2[3] - 2.0 * l1,))
        x1 = tuple(x0[i] + h * (1.5 * k1[i] + 0.5 * k2[i]) for i in range(3))
        lost1 = y0.lost + h * jnp.sum(1.5 * l1 + 0.5 * l2)
        y1 = State(*x1, lost1, y0.damage + h * d_damage)
        bad = jnp.where(bad1 | bad2, jnp.inf, 0.0)
        err = State(*(0.5 * h * (k1[i] + k2[i]) + bad for i in range(3)),
                    0.5 * h * jnp.sum(l1 + l2) + bad, jnp.zeros_like(y0.damage))
        return y1, err, dict(y0=y0, y1=y1), None, diffrax.RESULTS.successful


def _factorized(model, co, a, x0, opts, damage0):
    """The vector field split per cube `(d theta, d q, d c, escaped)` and
    `f -> W^-1 f` for `W = (I - a J_transport)(I - a J_local)` linearised at `x0`.

    `W^-1 f` returns `(k_theta, k_q, k_c)`, the per-cell escaped-ligand part `k_lost` and a
    failure flag of the transport solve. The photodegradation `damage` (`damage0` at the
    step's start) grows at a rate fixed through the step, so the solvers integrate it exactly
    and pass each stage its value; it enters only the carriers (held in W: a W-method keeps
    its order for any W).
    """
    # Non-local optics (excitons that move between cubes): their carriers are held at x0 in
    # W and recomputed on the whole lattice for every evaluation of the vector field.
    held = None if model.optics.local else model.carriers(x0[0], x0[1], co, damage=damage0)

    def local(x):
        return model.local_rates(x[0], x[1], x[2], co, held, damage0)

    ones, zeros = jnp.ones_like(x0[0]), jnp.zeros_like(x0[0])
    cols = [jax.jvp(local, (x0,), (tuple(ones if j == k else zeros for j in range(3)),))[1]
            for k in range(3)]  # cols[k][i]: d local_i / d x_k, cell by cell (i = 0..3)
    m = tuple(tuple((1.0 if i == k else 0.0) - a * cols[k][i] for k in range(3))
              for i in range(3))
    transport_solve = _transport_solver(model, co, a, opts)

    def solve_w(f):
        u_c, bad = transport_solve(f[2])
        k = _solve3(m, (f[0], f[1], u_c))
        k_lost = f[3] + a * sum(cols[j][3] * k[j] for j in range(3))
        return k, k_lost, bad

    def rates(x, at_start=False, damage=damage0):
        # Carriers from x on the whole lattice (an iterative solve starts from the held ones);
        # at x0 (`at_start`) they are the held ones.
        if held is None:
            carriers = None
        else:
            carriers = held if at_start else model.carriers(x[0], x[1], co, guess=held,
                                                            damage=damage)
        d = model.local_rates(x[0], x[1], x[2], co, carriers, damage)
        return (d[0], d[1], d[2] + model.transport_rate(x[2], co), d[3])

    return rates, solve_w


def _ros34pw2_tableau():
    """ROS34PW2 (Rang and Angermann, BIT 45, 761, 2005): 4 stages, order 3 as a W-method
    (any W), embedded order 2, stiffly accurate, L-stable; in the transformed form of Hairer
    and Wanner (IV.7): `(I - h g W) u_i = h g (f(y + sum a~_ij u_j) + sum c_ij / h u_j)`,
    `y1 = y + sum m_i u_i`."""
    import numpy as np

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
    gi = np.linalg.inv(gam)
    nodes = a.sum(axis=1)  # stage times over h
    return g, a @ gi, np.diag(1.0 / np.diag(gam)) - gi, b @ gi, b_hat @ gi, nodes


class ROS34PW2AF(AbstractFactorizedRosenbrock):
    """ROS34PW2 (Rang and Angermann 2005): 4 stages, third order for any W, embedded
    second-order error estimate, L-stable. At the same tolerance it takes ~15x fewer steps
    than [`ROS2AF`][] (4x4x2, rtol 1e-5: 305 against 4427) at twice the work per step."""

    def order(self, terms):
        return 3

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        g, a_t, c_t, m, m_hat, nodes = _ROS34PW2
        h = t1 - t0
        x0 = (y0.coverage, y0.charge, y0.free_ligand)
        model = self._model(terms)
        d_damage = model.damage_rate(args)  # constant through the step: integrated exactly
        rates, solve_w = _factorized(model, args, g * h, x0, self, y0.damage)
        # u_j = g h k_j, so the c_ij / h u_j terms are c_ij g k_j: no division by h (a vmapped
        # solve steps finished batch members with h = 0, and 0 / 0 poisoned gradients).
        us, ls, ks, kls, bad = [], [], [], [], jnp.zeros((), bool)
        for i in range(4):
            x = tuple(x0[k] + sum(a_t[i, j] * us[j][k] for j in range(i)) for k in range(3))
            f = rates(x, at_start=i == 0,  # stage 1 is at x0
                      damage=y0.damage + nodes[i] * h * d_damage)
            rhs = tuple(f[k] + sum(c_t[i, j] * g * ks[j][k] for j in range(i))
                        for k in range(3)) + (
                f[3] + sum(c_t[i, j] * g * kls[j] for j in range(i)),)
            k, k_lost, fail = solve_w(rhs)
            ks.append(k)
            kls.append(k_lost)
            us.append(tuple(g * h * kk for kk in k))
            ls.append(g * h * k_lost)
            bad = bad | fail
        x1 = tuple(x0[k] + sum(m[i] * us[i][k] for i in range(4)) for k in range(3))
        lost1 = y0.lost + jnp.sum(sum(m[i] * ls[i] for i in range(4)))
        y1 = State(*x1, lost1, y0.damage + h * d_damage)
        penalty = jnp.where(bad, jnp.inf, 0.0)
        dm = m - m_hat
        err = State(*(sum(dm[i] * us[i][k] for i in range(4)) + penalty for k in range(3)),
                    jnp.sum(sum(dm[i] * ls[i] for i in range(4))) + penalty,
                    jnp.zeros_like(y0.damage))
        return y1, err, dict(y0=y0, y1=y1), None, diffrax.RESULTS.successful


_ROS34PW2 = _ros34pw2_tableau()


def _transport_solver(model, co, a, opts):
    """`c -> (I - a J_transport)^-1 c` by CG with the DCT preconditioner, and a failure flag."""
    cells = co.cells
    occ = cells.occupied
    w = jnp.where(occ, cells.weight, 1.0)
    weight = jnp.where(occ, cells.weight, 0.0)
    shift = jax.lax.stop_gradient(jnp.sum(weight) / jnp.maximum(jnp.sum(occ), 1))
    scale = jax.lax.stop_gradient(a * co.k_hop_per_h)
    shape = cells.weight.shape
    eigen = neumann_eigenvalues(shape)
    struct = jax.ShapeDtypeStruct(shape, cells.weight.dtype)

    def matvec(c):
        return w * c - a * w * model.transport_rate(c, co)

    def precondition(r):
        return idctn(dctn(r, type=2, norm="ortho") / (shift + scale * eigen), type=2,
                     norm="ortho")

    operator = lx.FunctionLinearOperator(matvec, struct, tags=lx.positive_semidefinite_tag)
    pre = lx.FunctionLinearOperator(precondition, struct, tags=lx.positive_semidefinite_tag)
    solver = lx.CG(rtol=opts.cg_rtol, atol=opts.cg_atol, max_steps=opts.cg_max_steps)

    def solve(rhs):
        # CG starts from zero. (Starting the primal solve from `rhs` saves an iteration or
        # two, but lineax runs the derivative solves with the primal's options: those
        # tangent/cotangent solves then started from the primal right-hand side, far from
        # their own small solutions, and forward-mode cost ~3x more.)
        sol = lx.linear_solve(operator, w * rhs, solver, options=dict(preconditioner=pre),
                              throw=False)
        x = jnp.where(occ, sol.value, 0.0)
        # Keep sum(weight * x) = sum(weight * rhs) exactly (transport conserves ligand; the
        # CG residual would otherwise leak it).
        drift = jnp.sum(weight * (x - rhs))
        x = jnp.where(occ, x - drift / jnp.sum(weight), 0.0)
        return x, sol.result != lx.RESULTS.successful

    return solve
