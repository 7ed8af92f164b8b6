"""Excitons in a solid of nanocubes: traps counted per cube, and Förster transfer between cubes.

The optoelectronic field of both models ([`ExcitonFieldOptics`][], their default optics):

**Traps counted per cube.** An unpassivated surface holds a small, discrete number `N` of
quenching sites; a cube with `N` active traps decays at `k_N = k_r + k_0 + N k_q`. With `N`
Poisson-distributed about a mean `m` (the statistics of quenchers distributed at random over
independent particles: Infelta, Grätzel and Thomas, J. Phys. Chem. 78, 190 (1974); Tachiya,
Chem. Phys. Lett. 33, 289 (1975)) the ensemble decay after a short pulse is the closed form

    I(t) / I(0) = sum_N P(N) exp(-k_N t) = exp(-(k_r + k_0) t + m (exp(-k_q t) - 1)),

the PLQY is `sum_N P(N) k_r / k_N`, and the intensity-weighted average lifetime of the mixture
is `sum_N P(N) tau_N^2 / sum_N P(N) tau_N`, `tau_N = 1 / k_N`.

**Trap counts and transfer together** (annealed over the trap disorder): an exciton that
arrives at cube `i` finds it with `N` traps with probability `P_i(N)`, so the density of
excitons in cubes of class `(i, N)` obeys

    dn_iN/dt = P_i(N) (G_i + k_ET sum_{j ~ i} n_j) - (k_N + z_i k_ET) n_iN,   n_j = sum_N n_jN,

`z_i` the cube's face-sharing neighbours. In steady state `n_i = h_i (G_i + k_ET sum_j n_j)`
with `h_i = sum_N P_i(N) / (k_N + z_i k_ET)`: the lattice problem below with the effective
decay `1/h_i - z_i k_ET` (at least `k_r + k_0`: the operator stays positive definite). The PLQY
is `k_r sum n / sum G`. For a pulse (`n_iN(0) = P_i(N) G_i`) the time integral of `n` solves
the same problem, and the first moment `Q` of the decay solves it again with the source
`M_i h2_i / h_i^2` (`h2_i = sum_N P_i(N) / (k_N + z_i k_ET)^2`), so the intensity-weighted
average lifetime `int t I / int I = sum Q / sum M` needs two solves and no ns-scale
integration. Without transfer every formula reduces to the isolated cube's closed forms.

**Förster transfer.** An exciton hops to a face-sharing neighbour at `k_ET = k_D (R0 / R)^6`
(Förster; Lakowicz, Principles of Fluorescence Spectroscopy, 3rd ed., ch. 13), `k_D` the
donor's decay rate without transfer, `R` the centre-to-centre distance (edge + gap), `R0` the
Förster radius (`R0 = 0` switches transfer off exactly). On the lattice the steady-state
exciton density `n` under generation `G` solves the linear, screened-Poisson-like problem

    k_i n_i - sum_{j ~ i} k_ET (n_j - n_i) = G_i,

`k_i` each cube's own decay (its traps included): symmetric positive definite, solved
matrix-free by conjugate gradients (lineax, differentiable by its implicit rule) with the
exact inverse for uniform `k` on a full box (a DCT-II diagonalisation) as preconditioner.

Cubes of different energy exchange excitons with spectral overlap and detailed balance
(`jaxnc.physics.transfer`).
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
from jax.scipy.fft import dctn, idctn

from ..errors import ParameterError, is_concrete
from .optics import AbstractOptics, active_trap_fraction, probe_per_cube
from .transfer import Transfer, TransferFactors, neighbour_count, transfer
from .transport import _net_inflow

__all__ = ["forster_rate_per_ns", "poisson_probabilities", "trap_count_bound", "plqy_poisson",
           "pl_decay_poisson", "average_lifetime_poisson_ns", "neumann_eigenvalues",
           "steady_state_excitons", "ExcitonOptics", "exciton_optics",
           "pl_decay", "ExcitonFieldOptics"]


def forster_rate_per_ns(distance_nm, forster_radius_nm, donor_rate_per_ns):
    """`k_D (R0 / R)^6` (1/ns) to one neighbour at centre-to-centre `distance_nm`; exactly 0
    for `R0 = 0`."""
    return donor_rate_per_ns * (forster_radius_nm / distance_nm) ** 6


def trap_count_bound(mean_traps: float) -> int:
    """A count `n_max` past which the Poisson tail is below 1e-16 (for means up to ~100):
    `m + 10 sqrt(m) + 20`."""
    return int(mean_traps + 10.0 * mean_traps**0.5 + 20.0)


def poisson_probabilities(mean_traps, n_max: int):
    """`P(N)` for `N = 0..n_max` (last axis), Poisson with mean `mean_traps` (any shape)."""
    n = jnp.arange(n_max + 1, dtype=jnp.result_type(float))
    m = jnp.asarray(mean_traps)[..., None]
    log_p = n * jnp.log(jnp.maximum(m, 1e-300)) - m - jax.scipy.special.gammaln(n + 1.0)
    return jnp.where(m > 0, jnp.exp(log_p), (n == 0).astype(n.dtype))


def _rates(mean_traps, k_r, k_0, k_q, n_max):
    n = jnp.arange(n_max + 1, dtype=jnp.result_type(float))
    return poisson_probabilities(mean_traps, n_max), k_r + k_0 + n * k_q


def plqy_poisson(mean_traps, k_r, k_0, k_q, n_max: int):
    """Ensemble PLQY `sum_N P(N) k_r / (k_r + k_0 + N k_q)` of cubes with Poisson trap counts
    of mean `mean_traps`; rates in 1/ns; `n_max` from [`trap_count_bound`][]."""
    p, k = _rates(mean_traps, k_r, k_0, k_q, n_max)
    return jnp.sum(p * k_r / k, axis=-1)


def pl_decay_poisson(t_ns, mean_traps, k_r, k_0, k_q):
    """Normalised PL decay `I(t)/I(0)` after a short pulse (closed form, see the module)."""
    t = jnp.asarray(t_ns)
    return jnp.exp(-(k_r + k_0) * t + mean_traps * jnp.expm1(-k_q * t))


def average_lifetime_poisson_ns(mean_traps, k_r, k_0, k_q, n_max: int):
    """Intensity-weighted average lifetime `sum P tau^2 / sum P tau` (ns) of the mixture."""
    p, k = _rates(mean_traps, k_r, k_0, k_q, n_max)
    tau = 1.0 / k
    return jnp.sum(p * tau**2, axis=-1) / jnp.sum(p * tau, axis=-1)


#: Lattices with at most this many cells are solved densely (LU) instead of by CG.
_DENSE_MAX_CELLS = 128


def neumann_eigenvalues(shape):
    """Eigenvalues of minus the cell-centred Neumann Laplacian (unit links) on a full box, in
    the DCT-II basis: `sum_axis 2 - 2 cos(pi k / n)`."""
    total = jnp.zeros(shape)
    for axis, n in enumerate(shape):
        k = jnp.arange(n)
        lam = 2.0 - 2.0 * jnp.cos(jnp.pi * k / n)
        total = total + lam.reshape([n if i == axis else 1 for i in range(len(shape))])
    return total


def steady_state_excitons(generation, decay_per_ns, k_et_per_ns, links, occupied, weight=None,
                          *, guess=None, rtol: float = 1e-10, atol: float = 1e-14,
                          max_steps: int = 500):
    """Steady-state exciton density per cube (generation units x ns) on the lattice.

    Solves `k_i n_i - (1 / w_i) sum_j k_ET links_ij (n_j - n_i) = G_i` on occupied cells
    (`n = 0` elsewhere) by preconditioned CG (one tridiagonal solve on a chain, such as the
    mean-field model's layers; one LU solve for lattices of at most `_DENSE_MAX_CELLS`
    cells), multiplied through by the cubes per cell `w_i` (`weight`; 1 per occupied site by
    default; the layer's cube count in the mean-field reduction), which makes it symmetric.
    `generation` and `decay_per_ns` are per cube with the cells' shape, `links` the per-axis
    face counts between neighbouring cells (`Cells.links`), `k_et_per_ns` a scalar.
    `guess`: a start for CG (a nearby solution; not differentiated).

    **Returns:** `(n, ok)`: the density per cube and whether the solve converged.
    """
    occ = occupied
    w = jnp.where(occ, 1.0 if weight is None else weight, 1.0)
    k = jnp.where(occ, decay_per_ns, 1.0)  # empty cells: n = G = 0
    g = jnp.where(occ, generation, 0.0)

    def matvec(n):
        return w * k * n - _net_inflow(n, links, k_et_per_ns)

    if len(links) == 1 and k.ndim == 1:
        # A chain (the mean-field model's layers): one tridiagonal solve, exact.
        off = -k_et_per_ns * links[0]
        diag = w * k + k_et_per_ns * neighbour_count(links, k.shape)
        lower = jnp.concatenate([jnp.zeros(1, k.dtype), off])
        upper = jnp.concatenate([off, jnp.zeros(1, k.dtype)])
        n = jax.lax.linalg.tridiagonal_solve(lower, diag, upper, (w * g)[:, None])[:, 0]
        return jnp.where(occ, n, 0.0), jnp.all(jnp.isfinite(n))
    if k.size <= _DENSE_MAX_CELLS:
        # Few cells (small lattices): one dense solve, exact and cheaper to compile than CG.
        flat = k.size
        matrix = jax.vmap(lambda e: matvec(e.reshape(k.shape)).reshape(flat))(
            jnp.eye(flat, dtype=k.dtype)).T
        n = jnp.linalg.solve(matrix, (w * g).reshape(flat)).reshape(k.shape)
        return jnp.where(occ, n, 0.0), jnp.all(jnp.isfinite(n))
    struct = jax.ShapeDtypeStruct(k.shape, k.dtype)
    # Preconditioner: the exact inverse for the mean decay on a full box of single cubes.
    wk = jnp.where(occ, w * k, 0.0)
    shift = jax.lax.stop_gradient(jnp.sum(wk) / jnp.maximum(jnp.sum(occ), 1))
    scale = jax.lax.stop_gradient(k_et_per_ns)
    eigen = neumann_eigenvalues(k.shape)

    def precondition(r):
        return idctn(dctn(r, type=2, norm="ortho") / (shift + scale * eigen), type=2,
                     norm="ortho")

    operator = lx.FunctionLinearOperator(matvec, struct, tags=lx.positive_semidefinite_tag)
    pre = lx.FunctionLinearOperator(precondition, struct, tags=lx.positive_semidefinite_tag)
    options = dict(preconditioner=pre)
    if guess is not None:
        options["y0"] = jax.lax.stop_gradient(jnp.where(occ, guess, 0.0))
    solution = lx.linear_solve(operator, w * g, lx.CG(rtol=rtol, atol=atol,
                                                      max_steps=max_steps),
                               options=options, throw=False)
    n = jnp.where(occ, solution.value, 0.0)
    return n, solution.result == lx.RESULTS.successful


class ExcitonOptics(eqx.Module):
    """Ensemble optics of an assembly under a probe: `plqy` (fraction), `lifetime_ns` (the
    intensity-weighted average lifetime of the PL decay after a short pulse), `density` (the
    steady-state exciton density per cube under the probe's generation, generation x ns) and
    `ok` (both CG solves converged)."""

    plqy: jax.Array
    lifetime_ns: jax.Array
    density: jax.Array
    ok: jax.Array


def _effective_decay(mean_traps, k_r, k_0, k_q, moves: Transfer, occupied, n_max):
    """`(1/h - base, h, h2)` per cell (module docstring; `base = z k_ET` for equal energies);
    empty cells get decay 1."""
    p, k = _rates(jnp.where(occupied, mean_traps, 0.0), k_r, k_0, k_q, n_max)
    denominator = k + moves.out[..., None]
    h, h2 = jnp.sum(p / denominator, axis=-1), jnp.sum(p / denominator**2, axis=-1)
    return jnp.where(occupied, 1.0 / h - moves.base, 1.0), h, h2


def _solve_moves(source, effective, moves: Transfer, occupied, weight, guess=None):
    """`n` with `(1/h) n_i - sum_j k_ji n_j = source_i`, through the symmetric problem in
    `v = n / s`; `(n, ok)`."""
    s = moves.scale
    v, ok = steady_state_excitons(source / s, effective, moves.k_et, moves.links, occupied,
                                  weight, guess=None if guess is None else guess / s)
    return v * s, ok


def exciton_optics(generation, mean_traps, k_r, k_0, k_q, k_et_per_ns, links, occupied,
                   n_max: int, weight=None, neighbours=None, energies_ev=None,
                   sigma_ev=None, factors: TransferFactors | None = None) -> ExcitonOptics:
    """PLQY and average lifetime of cubes with Poisson trap counts (mean `mean_traps` per
    cube) exchanging excitons by Förster transfer (`k_et_per_ns` per shared face), under the
    probe generation `generation` per cube (any unit); see the module docstring. `weight`:
    cubes per cell (default 1 per occupied site); `neighbours`: face-sharing neighbours per
    cube (default from `links`, right for one cube per cell); `energies_ev`, `sigma_ev`:
    cube energies and line width for downhill transfer, or their precomputed `factors`
    (`jaxnc.physics.transfer.transfer`; None: equal energies)."""
    occ = occupied
    w = jnp.where(occ, 1.0 if weight is None else weight, 0.0)
    moves = transfer(links, k_et_per_ns, occ, weight, neighbours, energies_ev, sigma_ev,
                     factors=factors)
    effective, h, h2 = _effective_decay(mean_traps, k_r, k_0, k_q, moves, occ, n_max)
    g = jnp.where(occ, generation, 0.0)
    scale = jnp.max(g)  # solve for O(1) generation (CG's atol), scale the density back
    m, ok_m = _solve_moves(g / scale, effective, moves, occ, weight)
    source = jnp.where(occ, m * h2 / h**2, 0.0)
    q, ok_q = _solve_moves(source, effective, moves, occ, weight)
    total = jnp.sum(w * m)
    return ExcitonOptics(plqy=k_r * total / jnp.sum(w * g / scale),
                         lifetime_ns=jnp.sum(w * q) / total, density=m * scale,
                         ok=ok_m & ok_q)


def pl_decay(t_ns, generation, mean_traps, k_r, k_0, k_q, k_et_per_ns, links, occupied,
             n_max: int, weight=None, neighbours=None, energies_ev=None, sigma_ev=None,
             factors: TransferFactors | None = None, *, rtol: float = 1e-10,
             atol: float = 1e-14):
    """Normalised PL decay `I(t)/I(0)` after a short pulse absorbed as `generation` per cube,
    at the times `t_ns` (increasing, from 0): the linear ODE of the module docstring over every
    (cube, trap count) class, integrated on the ns scale (Tsit5: the rates are at most a few
    per ns, not stiff at these tolerances). `weight`, `neighbours`, `energies_ev`,
    `sigma_ev`, `factors`: as [`exciton_optics`][].
    Without transfer it is the closed form [`pl_decay_poisson`][] averaged over cubes."""
    import diffrax

    occ = occupied
    w = jnp.where(occ, 1.0 if weight is None else weight, 0.0)
    p, k = _rates(jnp.where(occ, mean_traps, 0.0), k_r, k_0, k_q, n_max)
    moves = transfer(links, k_et_per_ns, occ, weight, neighbours, energies_ev, sigma_ev,
                     factors=factors)
    g = jnp.where(occ, generation, 0.0)
    g = g / jnp.max(g)  # the decay is linear in the pulse: scale it to O(1) for atol
    p = jnp.where(occ[..., None], p, 0.0)
    safe_w = jnp.where(occ, w, 1.0)

    t = jnp.asarray(t_ns, dtype=float)
    args = (p, k, moves, safe_w)
    sol = diffrax.diffeqsolve(diffrax.ODETerm(_decay_field), diffrax.Tsit5(), t0=0.0,
                              t1=t[-1], dt0=0.01, y0=p * g[..., None], args=args,
                              saveat=diffrax.SaveAt(ts=t),
                              stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
                              max_steps=100000)
    per_cell = jnp.sum(sol.ys, axis=-1)  # (times, *cells)
    intensity = jnp.sum(w[None] * per_cell, axis=tuple(range(1, per_cell.ndim)))
    return intensity / jnp.sum(w * g)


def _decay_field(t, n, args):
    """d n_iN / dt of the pulse decay (module docstring); a module-level function, so that
    diffrax reuses its compilation for every call with the same shapes."""
    p, k, moves, safe_w = args
    total = jnp.sum(n, axis=-1)
    # Arrivals per cube, sum_j k_ji n_j: in v = n / s the faces are symmetric, so it is the
    # net inflow of v (times s, per cube) plus `base` n (z k_ET n for equal energies).
    s = moves.scale
    gain = s * _net_inflow(total / s, moves.links, moves.k_et) / safe_w + moves.base * total
    return p * gain[..., None] - (k + moves.out[..., None]) * n


class ExcitonFieldOptics(AbstractOptics):
    """Traps counted per cube and excitons that move between cubes (this module), the default
    optics of both models: `N ~ Poisson(traps_per_cube a)` quenching sites of rate
    `k_trap_nr / traps_per_cube` each, `a` the [`active_trap_fraction`][] `(1 - theta)(1 -
    (1 - f_q) q)` (so the mean quenching rate is the quasi-static model's `k_trap_nr a`), and
    Förster transfer to every face-sharing neighbour at `k_D (forster_radius / pitch)^6`,
    `k_D = k_r + k_nr`. Carriers that charge traps are the steady-state exciton density under
    the step's generation, so a cube beside bright neighbours receives excitons it did not
    absorb. `n_max` (static): trap counts summed over, 0 to 31 by default (32 classes: a
    whole number of SIMD vectors, measured 1.8x faster per mean-field step than 33), enough
    for `traps_per_cube` up to `n_max / 4` = 7.75 (Poisson tail below 1e-10);
    [`check`][jaxnc.physics.excitons.ExcitonFieldOptics.check] refuses a larger concrete
    value. `downhill` (static, default True): transfer
    between cubes of different energy (`Cells.energy_ev`) with spectral overlap and detailed
    balance (`Cells.transfer`, `jaxnc.physics.transfer`); False treats every cube as having
    the same energy.
    """

    local: ClassVar[bool] = False
    n_max: int = eqx.field(static=True, default=31)
    downhill: bool = eqx.field(static=True, default=True)

    def check(self, params) -> None:
        """Raise `ParameterError` if a concrete `params.traps_per_cube` exceeds `n_max / 4`
        (the Poisson sum over trap counts would be truncated); traced values pass."""
        traps = params.traps_per_cube
        if is_concrete(traps) and float(traps) > self.n_max / 4:
            raise ParameterError(
                f"Parameters.traps_per_cube = {float(traps):g} is more than "
                f"ExcitonFieldOptics(n_max={self.n_max}) sums over (up to {self.n_max / 4:g}); "
                f"use a model with ExcitonFieldOptics(n_max={int(4 * float(traps)) + 1})")

    def _inputs(self, coverage, charge, cells, params, damage):
        """Mean trap count, k_r, k_0, one site's rate, k_ET, neighbours per cube, and the
        cells' transfer factors (`Cells.transfer`; None without downhill transfer)."""
        k_r, k_0 = params.k_radiative_per_ns, params.k_nonradiative_per_ns
        mean = params.traps_per_cube * active_trap_fraction(coverage, charge, params, damage)
        k_q = params.k_trap_nonradiative_per_ns / params.traps_per_cube
        k_et = forster_rate_per_ns(cells.pitch_nm, params.forster_radius_nm, k_r + k_0)
        factors = cells.transfer if self.downhill else None
        return mean, k_r, k_0, k_q, k_et, 6.0 * cells.enclosure, factors

    def carriers(self, coverage, charge, generation_per_s, cells, params, guess=None,
                 damage=0.0):
        mean, k_r, k_0, k_q, k_et, z, factors = self._inputs(coverage, charge, cells, params,
                                                             damage)
        occ = cells.occupied
        moves = transfer(cells.links, k_et, occ, cells.weight, z, factors=factors)
        effective, _, _ = _effective_decay(mean, k_r, k_0, k_q, moves, occ, self.n_max)
        n, _ = _solve_moves(generation_per_s, effective, moves, occ, cells.weight,
                            guess=None if guess is None else guess * 1e9)
        return n * 1e-9  # (1/s) x ns -> excitons per cube

    def _under_probe(self, coverage, charge, cells, probe_weight, params,
                     damage) -> ExcitonOptics:
        mean, k_r, k_0, k_q, k_et, z, factors = self._inputs(coverage, charge, cells, params,
                                                             damage)
        return exciton_optics(probe_per_cube(probe_weight, cells), mean, k_r, k_0, k_q, k_et,
                              cells.links, cells.occupied, self.n_max, cells.weight, z,
                              factors=factors)

    def observe(self, coverage, charge, cells, probe_weight, params, damage=0.0):
        out = self._under_probe(coverage, charge, cells, probe_weight, params, damage)
        return out.plqy, out.lifetime_ns

    def emission(self, coverage, charge, cells, probe_weight, params, damage=0.0):
        """`k_r n`: the steady-state excitons under the probe, transfer included."""
        out = self._under_probe(coverage, charge, cells, probe_weight, params, damage)
        return params.k_radiative_per_ns * out.density

    def probe_response(self, coverage, charge, cells, probe_weight, params, damage=0.0):
        out = self._under_probe(coverage, charge, cells, probe_weight, params, damage)
        return out.plqy, out.lifetime_ns, params.k_radiative_per_ns * out.density

    def pl_decay(self, t_ns, coverage, charge, cells, probe_weight, params, damage=0.0):
        """[`pl_decay`][] of the module: every (cube, trap count) class on the ns scale."""
        mean, k_r, k_0, k_q, k_et, z, factors = self._inputs(coverage, charge, cells, params,
                                                             damage)
        return pl_decay(t_ns, probe_per_cube(probe_weight, cells), mean, k_r, k_0, k_q, k_et,
                        cells.links, cells.occupied, self.n_max, cells.weight, z,
                        factors=factors)
