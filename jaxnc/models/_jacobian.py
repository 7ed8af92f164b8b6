"""How a model's `W = I - a J` is built and solved: the structure a model declares for the
linearly implicit (Rosenbrock-W) solvers of `jaxnc.solve`, which ask the term they integrate
for it instead of knowing the model.

A structure's `linearise(term, t0, t1, y0, args, gamma)` returns a *linear system* for the
step from `y0` at `t0` to `t1`, with `W = I - a J`, `a = gamma (t1 - t0)`: the vector field
at a stage (`rates`), the solve of `W k = r` (`solve`), and the maps from the stages'
combined increments to the step's end state and error estimate (`step_end`, `error`).
Stage vectors live in the system's own space (a flat vector for [`DenseJacobian`][],
per-cell fields for [`LocalTransportJacobian`][]); the solvers only add and scale them.

- [`DenseJacobian`][]: `J` by forward mode and one LU of `I - a J` per step, on the state
  flattened into one vector. For small systems (`mean_field`'s `4 nz + 1` unknowns).
- [`LocalTransportJacobian`][]: the factorised `W = (I - a J_transport)(I - a J_local)`: a
  closed-form 3x3 solve per cell for the local kinetics and a conjugate-gradient transport
  solve preconditioned by a DCT. O(N) memory and work per step: for lattices.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import lineax as lx
from jax.flatten_util import ravel_pytree
from jax.scipy.fft import dctn, idctn

from ..physics.excitons import neumann_eigenvalues
from ._state import State

__all__ = ["AbstractJacobian", "DenseJacobian", "LocalTransportJacobian", "DenseSystem",
           "dense_system"]


class AbstractJacobian(eqx.Module):
    """The structure of a model's Jacobian and how `W = I - a J` is solved.

    **Class attributes:** `matrix_free` (True: the system is large and each evaluation of the
    vector field costs a lattice solve, so solvers work on the structured state and save at
    solver steps rather than through a dense output that needs one more evaluation).
    """

    matrix_free: ClassVar[bool]

    @abc.abstractmethod
    def linearise(self, term, t0, t1, y0, args, gamma):
        """The linear system of the step from `y0` at `t0` to `t1` with `W = I - a J`,
        `a = gamma (t1 - t0)`. `term` is the diffrax term being integrated (its `vf`; a
        model's term also carries `model`)."""


class DenseSystem:
    """A linearised step on a flat vector: `x0 = ravel(y0)`, `f(x)` the vector field there,
    `solve_w(r) = W^-1 r`. Built inside a traced solver step (not a pytree)."""

    def __init__(self, f, x0, unravel, solve_w):
        self.f, self.x0, self.unravel, self.solve_w = f, x0, unravel, solve_w

    def rates(self, increment, node):
        """The vector field at `x0 + increment` (`increment` None: at `x0`); the system is
        autonomous within a protocol step, so the stage's time (`node`, a fraction of the
        step) does not enter."""
        return self.f(self.x0 if increment is None else self.x0 + increment)

    def solve(self, rhs):
        return self.solve_w(rhs), jnp.zeros((), bool)

    def step_end(self, increment):
        """The state at the step's end, `x0` plus the stages' combined increment."""
        return self.unravel(self.x0 + increment)

    def error(self, increment, failed):
        """The error estimate as a state (the embedded solution's difference)."""
        return self.unravel(increment)

    def to_state(self, rate):
        """A stage-space rate (per hour) as a state of rates (for a dense output)."""
        return self.unravel(rate)


def dense_system(vector_field, t0, y0, args, a, jacobian=None, flat=True) -> DenseSystem:
    """A [`DenseSystem`][jaxnc.models.DenseSystem] of `vector_field(t, y, args)` at `y0`:
    `W = I - a J` with `J` its Jacobian by forward mode (or `jacobian(x0)`, given), one LU.

    `flat`: the state flattened into one vector (any pytree); else `y0` is an array kept in
    its shape, `(n, columns)`, every column solved with the same `n x n` `W` (the
    sensitivity system).
    """
    x0, unravel = ravel_pytree(y0) if flat else (y0, lambda x: x)

    def f(x):
        return ravel_pytree(vector_field(t0, unravel(x), args))[0].reshape(x.shape)

    jac = jax.jacfwd(f)(x0) if jacobian is None else jacobian(x0)
    lu = jsl.lu_factor(jnp.eye(jac.shape[0], dtype=x0.dtype) - a * jac)
    return DenseSystem(f, x0, unravel, lambda rhs: jsl.lu_solve(lu, rhs))


class DenseJacobian(AbstractJacobian):
    """`J` by forward mode (`jax.jacfwd` of the vector field on the flattened state) and an LU
    factorisation of `I - a J` per step: one Jacobian, one `n x n` LU, cheap for the tens of
    unknowns of `mean_field`, O(n^3) for anything large."""

    matrix_free: ClassVar[bool] = False

    def linearise(self, term, t0, t1, y0, args, gamma):
        # The system is autonomous within a protocol step (the drive is constant), so no
        # time-derivative term enters W.
        return dense_system(term.vf, t0, y0, args, gamma * (t1 - t0))


class LocalTransportJacobian(AbstractJacobian):
    """The factorised `W = (I - a J_transport)(I - a J_local)` of a model whose vector field
    splits into local kinetics (the same small system in every cell: `model.local_rates`)
    and linear transport of free ligand between cells (`model.transport_rate`).

    The local factor is a closed-form 3x3 solve per cell (the blocks from three forward-mode
    products, all cells at once); the transport factor a symmetric positive definite solve by
    conjugate gradients (lineax), preconditioned by a DCT-II solve, the exact inverse of the
    cell-centred Neumann Laplacian on a full box, so the iteration count hardly grows with the
    lattice. Ligand is conserved to round-off: both factors keep the weighted ligand total (the
    local one includes the escaped ligand per cell; the transport solve is corrected for its CG
    residual). A Rosenbrock-W method keeps its order for any `W`, so the factorisation costs
    no accuracy, only (a few) steps.

    Photodegradation (`damage`) grows at a rate fixed through a protocol step, so it is
    integrated exactly and each stage gets its value at the stage's time. Non-local optics
    (excitons that move between cubes) have their carriers held at the step's start in `W` and
    recomputed on the whole lattice for every evaluation of the vector field.

    **Fields:** `cg_rtol`, `cg_atol` (ML), `cg_max_steps`: the transport solves, far tighter
    than the time-stepping error (a failed solve makes the step fail its error test, so it is
    retried smaller).
    """

    cg_rtol: float = eqx.field(static=True, default=1e-10)
    cg_atol: float = eqx.field(static=True, default=1e-14)
    cg_max_steps: int = eqx.field(static=True, default=200)

    matrix_free: ClassVar[bool] = True

    def linearise(self, term, t0, t1, y0, args, gamma):
        model = getattr(term, "model", None)
        if model is None or not isinstance(y0, State):
            raise TypeError(f"the factorised W splits a jaxnc model's vector field into local "
                            f"kinetics and transport, so it needs the model's term on its "
                            f"State (jaxnc.solve.ModelTerm(model)), not "
                            f"{type(term).__name__} on {type(y0).__name__}")
        return _SplitSystem(model, args, t1 - t0, gamma, y0, self)


def _solve3(m, r):
    """Solve the 3x3 systems `m x = r` cell by cell (Cramer's rule). `m[i][j]` and `r[i]` are
    arrays of cell values."""
    (a, b, c), (d, e, f), (g, h, i) = m
    co_a, co_b, co_c = e * i - f * h, -(d * i - f * g), d * h - e * g
    det = a * co_a + b * co_b + c * co_c
    inv = (
        (co_a, -(b * i - c * h), b * f - c * e),
        (co_b, a * i - c * g, -(a * f - c * d)),
        (co_c, -(a * h - b * g), a * e - b * d),
    )
    return tuple(sum(inv[row][k] * r[k] for k in range(3)) / det for row in range(3))


class _SplitSystem:
    """[`LocalTransportJacobian`][]'s system at `y0`. Stage vectors are `(coverage, charge,
    free_ligand, escaped)` per cell; `escaped` (the ligand leaving each cell) sums to the
    scalar `lost`."""

    def __init__(self, model, co, h, gamma, y0: State, opts: LocalTransportJacobian):
        self.model, self.co, self.y0, self.h = model, co, y0, h
        a = gamma * h
        self.x0 = (y0.coverage, y0.charge, y0.free_ligand)
        self.d_damage = model.damage_rate(co)  # per hour, constant through the step
        x0, damage0 = self.x0, y0.damage
        self.held = (None if model.optics.local
                     else model.carriers(x0[0], x0[1], co, damage=damage0))

        def local(x):
            return model.local_rates(x[0], x[1], x[2], co, self.held, damage0)

        ones, zeros = jnp.ones_like(x0[0]), jnp.zeros_like(x0[0])
        # cols[k][i]: d local_i / d x_k, cell by cell (i = 0..3)
        self.cols = [jax.jvp(local, (x0,), (tuple(ones if j == k else zeros
                                                  for j in range(3)),))[1] for k in range(3)]
        self.m = tuple(tuple((1.0 if i == k else 0.0) - a * self.cols[k][i] for k in range(3))
                       for i in range(3))
        self.a = a
        self.transport_solve = _transport_solver(model, co, a, opts)

    def rates(self, increment, node):
        """The split vector field at `x0 + increment` (`increment` None: at `x0`, with the
        carriers held in W), the damage at the stage's time `t0 + node h`."""
        model, co = self.model, self.co
        damage = self.y0.damage + node * self.h * self.d_damage
        if increment is None:
            x, carriers = self.x0, self.held
        else:
            x = tuple(self.x0[k] + increment[k] for k in range(3))
            # Carriers from x on the whole lattice (an iterative solve starts from the held).
            carriers = (None if self.held is None
                        else model.carriers(x[0], x[1], co, guess=self.held, damage=damage))
        d = model.local_rates(x[0], x[1], x[2], co, carriers, damage)
        return (d[0], d[1], d[2] + model.transport_rate(x[2], co), d[3])

    def solve(self, f):
        """`W^-1 f` and whether the transport solve failed."""
        u_c, bad = self.transport_solve(f[2])
        k = _solve3(self.m, (f[0], f[1], u_c))
        k_lost = f[3] + self.a * sum(self.cols[j][3] * k[j] for j in range(3))
        return (*k, k_lost), bad

    def step_end(self, increment):
        """The state at the step's end: `x0` plus the increment, the escaped ligand summed
        into `lost`, the damage integrated exactly."""
        y0 = self.y0
        return State(*(self.x0[k] + increment[k] for k in range(3)),
                     y0.lost + jnp.sum(increment[3]), y0.damage + self.h * self.d_damage)

    def to_state(self, rate):
        """A stage-space rate (per hour) as a State of rates: the escaped ligand summed into
        `lost`, the damage's constant rate."""
        return State(rate[0], rate[1], rate[2], jnp.sum(rate[3]), self.d_damage)

    def error(self, increment, failed):
        """The error estimate as a State; infinite where the transport solve failed, so the
        step is rejected and retried smaller."""
        penalty = jnp.where(failed, jnp.inf, 0.0)
        return State(*(increment[k] + penalty for k in range(3)),
                     jnp.sum(increment[3]) + penalty, jnp.zeros_like(self.y0.damage))


def _transport_solver(model, co, a, opts: LocalTransportJacobian):
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
