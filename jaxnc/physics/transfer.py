"""Exciton transfer between face-sharing cubes: the faces of the lattice, and the rates between
cubes of different energy.

**Cubes of different energy** (size spread, fewer coupled neighbours at a surface): transfer
from `i` to `j` runs at `k_ij = k_ET f_ij exp(-(E_j - E_i) / 2kT)` with
`f_ij = exp(-(E_j - E_i)^2 / 4 s^2) / cosh((E_j - E_i) / 2kT)`: the overlap of two Gaussian
homogeneous lines of standard deviation `s` (`homogeneous_fwhm_mev`) and detailed balance,
`k_ij / k_ji = exp(-(E_j - E_i) / kT)`, so excitons drift downhill to larger, redder cubes
(de Weerd et al., J. Phys. Chem. C 2016, energy transfer between CsPbBr3 nanocrystals of
different size). `kT` at 298.15 K, the temperature of the optical measurements. With
`v_i = n_i / s_i`, `s_i = exp(-E_i / 2kT)`, the problem is again symmetric positive definite
(the faces carry `k_ET f_ij`), solved as the equal-energy one (`jaxnc.physics.excitons`);
equal energies give `f = 1` exactly.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = ["BOLTZMANN_EV_PER_K", "OPTICS_TEMPERATURE_K", "neighbour_count", "Transfer",
           "TransferFactors", "transfer_factors", "transfer"]


def neighbour_count(links, shape):
    """Face-sharing neighbours of every site (`z_i`), from the per-axis face counts."""
    z = jnp.zeros(shape)
    for axis, link in enumerate(links):
        lo = [(0, 0)] * len(shape)
        hi = [(0, 0)] * len(shape)
        lo[axis], hi[axis] = (0, 1), (1, 0)
        z = z + jnp.pad(link, lo) + jnp.pad(link, hi)
    return z


BOLTZMANN_EV_PER_K = 8.617333262e-5
#: Temperature (K) of the optical measurements (transfer's detailed balance).
OPTICS_TEMPERATURE_K = 298.15


class Transfer(eqx.Module):
    """Exciton transfer between cubes, face by face (module docstring): `links` the faces'
    symmetric factors `links_ij f_ij` (per axis, with `k_et` their rate scale, 1/ns), `out`
    each cube's total transfer-out rate (1/ns), `base` what is subtracted from `1/h` to give
    the lattice problem's own decay (`z k_ET` for equal energies), `scale` the symmetrising
    `s_i` (1 for equal energies)."""

    links: tuple
    k_et: jax.Array
    out: jax.Array
    base: jax.Array
    scale: jax.Array


class TransferFactors(eqx.Module):
    """The energy-dependent, dimensionless part of [`Transfer`][] (it does not depend on the
    state or on `k_ET`, so a model computes it once per solve, in `Cells`): `faces` the
    per-axis `links_ij f_ij`, `excess_out` each cube's `sum_j links_ij (f_ij e^(-+d/2kT) - 1)
    / w_i`, `loss` its `sum_j links_ij (1 - f_ij) / w_i`, `scale` the symmetrising `s_i`."""

    faces: tuple
    excess_out: jax.Array
    loss: jax.Array
    scale: jax.Array


def transfer_factors(links, occupied, weight, energies_ev, sigma_ev,
                     temperature_k: float = OPTICS_TEMPERATURE_K) -> TransferFactors:
    """[`TransferFactors`][] of cells with energies `energies_ev` (eV), homogeneous lines of
    standard deviation `sigma_ev` (eV), `links` the per-axis face counts between cells and
    `weight` the cubes per cell (None: one per occupied site)."""
    occ = occupied
    w = jnp.where(occ, 1.0 if weight is None else weight, 1.0)
    kt = BOLTZMANN_EV_PER_K * temperature_k
    e = jnp.where(occ, energies_ev, 0.0)
    mean = jnp.sum(jnp.where(occ, e, 0.0)) / jnp.maximum(jnp.sum(occ), 1)
    e = jnp.where(occ, e, mean)
    faces, excess_out, loss = [], jnp.zeros(occ.shape), jnp.zeros(occ.shape)
    for axis, link in enumerate(links):
        n = occ.shape[axis]
        lo = jax.lax.slice_in_dim(e, 0, n - 1, axis=axis)
        hi = jax.lax.slice_in_dim(e, 1, n, axis=axis)
        d = hi - lo  # energy step from the lower-index cell to its neighbour
        f = jnp.exp(-(d**2) / (4.0 * sigma_ev**2)) / jnp.cosh(d / (2.0 * kt))
        faces.append(link * f)
        pad_lo = [(0, 0)] * occ.ndim
        pad_hi = [(0, 0)] * occ.ndim
        pad_lo[axis], pad_hi[axis] = (0, 1), (1, 0)
        # Out of the lower cell (uphill by d) and out of the upper one (downhill by d).
        excess_out = (excess_out + jnp.pad(link * (f * jnp.exp(-d / (2.0 * kt)) - 1.0), pad_lo)
                      + jnp.pad(link * (f * jnp.exp(d / (2.0 * kt)) - 1.0), pad_hi))
        loss = loss + jnp.pad(link * (1.0 - f), pad_lo) + jnp.pad(link * (1.0 - f), pad_hi)
    return TransferFactors(tuple(faces), excess_out / w, loss / w,
                           jnp.exp(-(e - mean) / (2.0 * kt)))


def transfer(links, k_et_per_ns, occupied, weight=None, neighbours=None, energies_ev=None,
             sigma_ev=None, temperature_k: float = OPTICS_TEMPERATURE_K,
             factors: TransferFactors | None = None) -> Transfer:
    """[`Transfer`][] of cubes exchanging excitons over `links` (per-axis face counts between
    cells) at `k_et_per_ns` per face for equal energies; `energies_ev` per cell (None: all
    equal), `sigma_ev` the homogeneous line's standard deviation (spectral overlap), or their
    precomputed `factors` ([`transfer_factors`][]). `weight`: cubes per cell; `neighbours`:
    face-sharing neighbours per cube (default from `links`), which may include faces within a
    cell (a mean-field layer), always between equal energies."""
    occ = occupied
    z = neighbour_count(links, occ.shape) if neighbours is None else neighbours
    k = jnp.asarray(k_et_per_ns, dtype=float)
    if factors is None and energies_ev is not None:
        factors = transfer_factors(links, occ, weight, energies_ev, sigma_ev, temperature_k)
    if factors is None:
        return Transfer(tuple(links), k, z * k, z * k, jnp.ones(occ.shape))
    return Transfer(factors.faces, k, k * (z + factors.excess_out), k * (z - factors.loss),
                    factors.scale)
