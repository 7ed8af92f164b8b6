"""A Rosenbrock solver for small stiff systems (the `mean_field` model): ROS34PW2 with the
exact dense Jacobian.

Why not Kvaerno5 (the former `mean_field` default): an ESDIRK solves a nonlinear system at
every stage, and diffrax runs each of those Newton iterations as its own `while_loop` (seven
per step, each with a linear solve). That is cheap to run on a handful of unknowns but slow to
trace and compile: a `jaxnc fit` process spent ~3.6 s tracing and ~3.7 s compiling its
residual-and-Jacobian program, most of it this nesting. A Rosenbrock method is linearly
implicit: one Jacobian and one LU factorisation per step, four triangular solves, no inner
iteration, so its step is straight-line code.

ROS34PW2 (Rang and Angermann, BIT 45, 761, 2005) is third order for any `W`, so here, with
the exact Jacobian, it is a third-order Rosenbrock method; L-stable, stiffly accurate,
embedded second-order error estimate. Its dense output is the cubic Hermite polynomial
through both ends and their slopes (one extra evaluation of the vector field per step), so
saved times need not be solver points. The tableau is the one [`ROS34PW2AF`][] uses on the
`field` model with a factorised `W`.
"""

from __future__ import annotations

from typing import ClassVar

import diffrax
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
from jax.flatten_util import ravel_pytree

from ._split import _ROS34PW2

__all__ = ["ROS34PW2"]


def _sensitivity_term(terms):
    """The `SensitivityTerm` (`jaxnc.solve._sensitivities`) inside diffrax's wrappers of
    `terms`, or None."""
    from ._sensitivities import SensitivityTerm

    term = terms
    while not isinstance(term, SensitivityTerm) and isinstance(getattr(term, "term", None),
                                                               diffrax.AbstractTerm):
        term = term.term
    return term if isinstance(term, SensitivityTerm) else None


class ROS34PW2(diffrax.AbstractSolver):
    """ROS34PW2 with the exact dense Jacobian (`jax.jacfwd` of the vector field) and an LU
    factorisation of `I - g h J` per step: for systems of tens of unknowns, such as the
    `mean_field` model's `3 nz + 1`.

    Works with any diffrax `ODETerm` over any pytree state; cost per step is one Jacobian,
    five evaluations of the vector field and one `n x n` LU, so it is not meant for the
    `field` model's large lattices (use [`ROS34PW2AF`][] there). On a
    `SensitivityTerm` (states with their forward sensitivities) the term supplies `W`.
    """

    term_structure: ClassVar = diffrax.AbstractTerm
    interpolation_cls: ClassVar = diffrax.ThirdOrderHermitePolynomialInterpolation.from_k

    def order(self, terms):
        return 3

    def init(self, terms, t0, t1, y0, args):
        return None

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        g, a_t, c_t, m, m_hat, _ = _ROS34PW2
        h = t1 - t0
        sensitivities = _sensitivity_term(terms)
        if sensitivities is not None:
            # States [y | S] of shape (n, 1 + P); the term supplies W (one LU of n x n).
            x0, unravel = y0, lambda x: x
            solve_w = sensitivities.w_solver(t0, y0, args, g * h)
        else:
            x0, unravel = ravel_pytree(y0)
            # The system is autonomous within a protocol step (the drive is constant), so no
            # time-derivative term is needed.
            jac = jax.jacfwd(lambda x: ravel_pytree(terms.vf(t0, unravel(x), args))[0])(x0)
            lu = jsl.lu_factor(jnp.eye(x0.size, dtype=x0.dtype) - (g * h) * jac)

            def solve_w(rhs):
                return jsl.lu_solve(lu, rhs)

        def f(x):
            return ravel_pytree(terms.vf(t0, unravel(x), args))[0].reshape(x.shape)

        # Hairer-Wanner transformed form with u_i = g h k_i, as in ROS34PW2AF: the c_ij / h
        # u_j terms are c_ij g k_j, so nothing is divided by h (a vmapped solve steps its
        # finished members with h = 0).
        ks, us = [], []
        f0 = None
        for i in range(4):
            x = x0 + sum(a_t[i, j] * us[j] for j in range(i))
            fx = f(x)
            if i == 0:
                f0 = fx
            rhs = fx + sum(c_t[i, j] * g * ks[j] for j in range(i))
            k = solve_w(rhs)
            ks.append(k)
            us.append(g * h * k)
        x1 = x0 + sum(m[i] * us[i] for i in range(4))
        err = sum((m[i] - m_hat[i]) * us[i] for i in range(4))
        f1 = f(x1)
        y1 = unravel(x1)
        k = jax.tree.map(lambda a, b: jnp.stack([a, b]), unravel(h * f0), unravel(h * f1))
        dense_info = dict(y0=y0, y1=y1, k=k)
        return y1, unravel(err), dense_info, None, diffrax.RESULTS.successful
