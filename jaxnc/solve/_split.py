"""A matrix-free stiff solver for the `field` model: Strang splitting of local kinetics and
transport, each sub-step L-stable, with step-doubling error control.

One step of size `h` is `L(h/2) T(h) L(h/2)`:

- `L`, the local kinetics (trap charging, adsorption, desorption, escape), is the same small
  system in every cube. It is advanced by the 2-stage, L-stable, stiffly accurate SDIRK2
  (Alexander 1977, `gamma = 1 - 1/sqrt(2)`); each stage is a Newton solve of 3 unknowns per
  cube with the 3x3 Jacobian from three forward-mode products and Cramer's rule, all cubes at
  once. Work and memory are O(N).
- `T`, transport of free ligand between cubes, is linear: SDIRK2 again, each stage a
  symmetric positive definite solve `(W - a K) y = W b` by conjugate gradients (lineax) with a
  DCT-II preconditioner — the exact inverse of the cell-centred Neumann Laplacian on a full box
  — so the iteration count does not grow with the lattice. Work O(N log N) per iteration.

Strang splitting is second order; the error of a step is estimated by step doubling (one step
of `h` against two of `h/2`), which diffrax's PID controller turns into step sizes, so `rtol`
and `atol` mean what they mean for any adaptive solver. Newton residuals left after the fixed
iteration count and failed CG solves are added to the error estimate, so such a step is
rejected and retried smaller rather than accepted. Ligand is conserved to round-off: each
stage conserves it exactly (the Newton step preserves linear invariants; transport is
corrected for the CG residual).

Gradients: every piece is differentiable — Newton iterations are a fixed-length loop, CG goes
through lineax's implicit rule — so diffrax's `RecursiveCheckpointAdjoint(checkpoints=...)`
(bounded memory) and `ForwardMode` work as with any diffrax solver.
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

__all__ = ["SplitSDIRK2"]

GAMMA = 1.0 - 1.0 / math.sqrt(2.0)


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


class SplitSDIRK2(diffrax.AbstractSolver):
    """Strang-split SDIRK2 for a jaxnc model (see the module docstring).

    **Fields:**

    - `model`: the model whose `local_rates` and `transport_rate` are integrated (the diffrax
      term is only used for `func`).
    - `newton_iterations`: Newton iterations per local stage (static; the residual left over
      enters the error estimate).
    - `cg_rtol`, `cg_atol`, `cg_max_steps`: tolerances (ML) and iteration cap of the transport
      solves (much tighter than the time-stepping error; 1e-12 relative stalls at round-off
      with the preconditioner on lattices with vacancies).
    """

    model: AbstractModel
    newton_iterations: int = eqx.field(static=True, default=8)
    cg_rtol: float = eqx.field(static=True, default=1e-10)
    cg_atol: float = eqx.field(static=True, default=1e-14)
    cg_max_steps: int = eqx.field(static=True, default=200)

    term_structure: ClassVar = diffrax.AbstractTerm
    interpolation_cls: ClassVar = diffrax.LocalLinearInterpolation

    def order(self, terms):
        return 2

    def error_order(self, terms):
        return 3  # step doubling of a second-order method: local error O(h^3)

    def init(self, terms, t0, t1, y0, args):
        return None

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        h = t1 - t0
        y_one, bad_one = self._strang(y0, args, h)
        y_mid, bad_a = self._strang(y0, args, 0.5 * h)
        y_two, bad_b = self._strang(y_mid, args, 0.5 * h)
        bad = bad_one + bad_a + bad_b  # unconverged Newton / CG: make the step fail the test
        err = jax.tree.map(lambda two, one: (two - one) / 3.0 + bad, y_two, y_one)
        dense_info = dict(y0=y0, y1=y_two)
        return y_two, err, dense_info, None, diffrax.RESULTS.successful

    # ------------------------------------------------------------------------------ pieces
    def _strang(self, y: State, co, h):
        y, bad1 = self._local(y, co, 0.5 * h)
        y, bad2 = self._transport(y, co, h)
        y, bad3 = self._local(y, co, 0.5 * h)
        return y, bad1 + bad2 + bad3

    def _local(self, y: State, co, tau):
        """SDIRK2 over `tau` for the local kinetics; returns the state and a failure flag."""
        model = self.model
        a = GAMMA * tau

        def rates(x):
            return model.local_rates(x[0], x[1], x[2], co)

        def newton(base):
            def body(_, x):
                f = rates(x)[:3]
                g = tuple(x[k] - base[k] - a * f[k] for k in range(3))
                ones, zeros = jnp.ones_like(x[0]), jnp.zeros_like(x[0])
                cols = [jax.jvp(lambda xx: rates(xx)[:3], (x,),
                                (tuple(ones if j == k else zeros for j in range(3)),))[1]
                        for k in range(3)]
                m = tuple(tuple((1.0 if i == k else 0.0) - a * cols[k][i] for k in range(3))
                          for i in range(3))
                step = _solve3(m, tuple(-gi for gi in g))
                return tuple(x[k] + step[k] for k in range(3))

            x = jax.lax.fori_loop(0, self.newton_iterations, body, base)
            f = rates(x)
            residual = jnp.max(jnp.stack([jnp.max(jnp.abs(x[k] - base[k] - a * f[k]))
                                          for k in range(3)]))
            return x, f[3], residual

        y_vec = (y.coverage, y.charge, y.free_ligand)
        x1, esc1, res1 = newton(y_vec)
        k1 = tuple((x1[k] - y_vec[k]) / a for k in range(3))
        base2 = tuple(y_vec[k] + (1.0 - GAMMA) * tau * k1[k] for k in range(3))
        x2, esc2, res2 = newton(base2)
        lost = y.lost + tau * ((1.0 - GAMMA) * jnp.sum(esc1) + GAMMA * jnp.sum(esc2))
        # A Newton residual above round-off marks the step as failed (it is then retried
        # with a smaller step by the controller).
        bad = jnp.where(jnp.maximum(res1, res2) > 1e-9, jnp.inf, 0.0)
        return State(x2[0], x2[1], x2[2], lost), bad

    def _transport(self, y: State, co, h):
        """SDIRK2 over `h` for the free-ligand exchange between cells."""
        model, cells = self.model, co.cells
        occ = cells.occupied
        w = jnp.where(occ, cells.weight, 1.0)
        a = GAMMA * h
        # The preconditioner and the first guess only steer CG, not its answer: no gradient
        # flows through them (lineax refuses tangents in `options`).
        shift = jax.lax.stop_gradient(
            jnp.sum(jnp.where(occ, cells.weight, 0.0)) / jnp.maximum(jnp.sum(occ), 1))
        scale = jax.lax.stop_gradient(a * co.k_hop_per_h)
        eigen = _neumann_eigenvalues(y.free_ligand.shape)

        def matvec(c):
            return w * c - a * w * model.transport_rate(c, co)

        def precondition(r):
            return idctn(dctn(r, type=2, norm="ortho") / (shift + scale * eigen), type=2,
                         norm="ortho")

        struct = jax.ShapeDtypeStruct(y.free_ligand.shape, y.free_ligand.dtype)
        operator = lx.FunctionLinearOperator(matvec, struct, tags=lx.positive_semidefinite_tag)
        pre = lx.FunctionLinearOperator(precondition, struct,
                                        tags=lx.positive_semidefinite_tag)
        solver = lx.CG(rtol=self.cg_rtol, atol=self.cg_atol, max_steps=self.cg_max_steps)

        def stage(base):
            sol = lx.linear_solve(operator, w * base, solver, options=dict(
                preconditioner=pre, y0=jax.lax.stop_gradient(base)), throw=False)
            x = jnp.where(occ, sol.value, 0.0)
            # Restore sum(weight * c) exactly (the CG residual would otherwise leak ligand).
            drift = jnp.sum(jnp.where(occ, cells.weight * (x - base), 0.0))
            x = jnp.where(occ, x - drift / jnp.sum(jnp.where(occ, cells.weight, 0.0)), 0.0)
            failed = sol.result != lx.RESULTS.successful
            return x, failed

        c0 = y.free_ligand
        x1, fail1 = stage(c0)
        k1 = (x1 - c0) / a
        x2, fail2 = stage(c0 + (1.0 - GAMMA) * h * k1)
        bad = jnp.where(fail1 | fail2, jnp.inf, 0.0)
        return State(y.coverage, y.charge, x2, y.lost), bad


def _neumann_eigenvalues(shape):
    """Eigenvalues of minus the cell-centred Neumann Laplacian (unit links) on a full box, in
    the DCT-II basis: `sum_axis 2 - 2 cos(pi k / n)`."""
    total = jnp.zeros(shape)
    for axis, n in enumerate(shape):
        k = jnp.arange(n)
        lam = 2.0 - 2.0 * jnp.cos(jnp.pi * k / n)
        total = total + lam.reshape([n if i == axis else 1 for i in range(len(shape))])
    return total
