"""Ligand transport through the inter-cube nanospaces, with escape through open faces.

Finite volumes on the lattice graph: the flux through a shared face between cells `a` and `b`
is `k_hop * links * (c_b - c_a)` with `k_hop = D_eff / pitch**2`; `links` counts the shared
faces between the two cells (1 on the full lattice, a face count between layers in the
mean-field reduction). Escape through each open face of a cube that shares a face with another
(its free ligand sits in a nanospace and must find the way out) is `chance * k_hop * c`;
a cube that shares no face has no nanospace, and its free ligand leaves at the unhindered
`k_hop * c` per face (H2024: free ligand around isolated cubes is lost).

A nanospace holds its free ligand only while the ligand shells of the two facing cubes close it
(H2024: DDAB "encapsulated" in ~3 nm nanospaces around 1.6 nm ligands). Once the gap exceeds
both shells, `2 * ligand`, by `confinement_margin_nm` the channel is open and a confined cube
loses ligand like an isolated one: `chance = escape_fraction ** (1 - open)` with the smooth
switch `open = sigmoid((gap - 2 ligand - margin) / steric_width_nm)`, so wide-gap assemblies
tend to isolated cubes.
Fluxes are antisymmetric, so the transport term conserves ligand exactly.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp

from .adsorption import arrhenius

__all__ = ["hindrance", "confined_escape_chance", "AbstractTransport", "HinderedLatticeDiffusion"]


def hindrance(gap_nm, ligand_nm, width_nm):
    """Hindered-diffusion factor in [0, 1): the squared free fraction of the gap.

    `((gap - ligand)_+ / gap)**2`, with the positive part smoothed over `width_nm`: it falls
    smoothly to 0 as the gap closes on the ligand and tends to 1 for wide gaps (Renkin-like).
    """
    free_nm = width_nm * jax.nn.softplus((gap_nm - ligand_nm) / width_nm)
    return (free_nm / gap_nm) ** 2


def confined_escape_chance(gap_nm, ligand_nm, params):
    """Chance that free ligand reaching an open face of a nanospace leaves the assembly.

    `escape_fraction` while the two ligand shells close the gap, rising smoothly (geometric
    interpolation) to 1 once `gap - 2 * ligand` exceeds `confinement_margin_nm`.
    """
    opened = jax.nn.sigmoid(
        (gap_nm - 2.0 * ligand_nm - params.confinement_margin_nm) / params.steric_width_nm
    )
    # log(0) guarded: escape_fraction = 0 (a sealed film) stays exactly 0 with finite gradients.
    tiny = jnp.finfo(jnp.result_type(float)).tiny
    log_chance = jnp.log(jnp.maximum(params.escape_fraction, tiny))
    return jnp.where(params.escape_fraction > 0, jnp.exp((1.0 - opened) * log_chance), 0.0)


def _net_inflow(c, links, k_hop):
    """Net inflow into each cell from its neighbours along every axis (cell units / h)."""
    net = jnp.zeros_like(c)
    for axis, link in enumerate(links):
        n = c.shape[axis]
        hi = jax.lax.slice_in_dim(c, 1, n, axis=axis)
        lo = jax.lax.slice_in_dim(c, 0, n - 1, axis=axis)
        flux = k_hop * link * (hi - lo)  # from the +1 cell into the -1 cell
        pad_lo = [(0, 0)] * c.ndim
        pad_hi = [(0, 0)] * c.ndim
        pad_lo[axis] = (0, 1)
        pad_hi[axis] = (1, 0)
        net = net + jnp.pad(flux, pad_lo) - jnp.pad(flux, pad_hi)
    return net


class AbstractTransport(eqx.Module):
    """Free-ligand transport between cells and escape from the assembly."""

    @abc.abstractmethod
    def hop_rate_per_h(self, gap_nm, ligand_nm, pitch_nm, temperature_k, params):
        """Exchange rate (1/h) through one shared face."""

    @abc.abstractmethod
    def net_inflow(self, free_ligand, links, k_hop):
        """Net inflow of free ligand into each cell (summed over its cubes, per hour)."""

    def escape_chance(self, gap_nm, ligand_nm, params):
        """Chance that ligand at an open face of a nanospace escapes; see
        [`confined_escape_chance`][]."""
        return confined_escape_chance(gap_nm, ligand_nm, params)

    def escape_per_h(self, free_ligand, open_faces, confined, k_hop, chance_confined):
        """Escape rate per cube (ML/h) through its open faces.

        `confined` is the fraction of cubes that hold a nanospace (share a face), whose ligand
        escapes with `chance_confined`; the rest lose free ligand without hindrance.
        """
        chance = confined * chance_confined + (1.0 - confined)
        return chance * k_hop * open_faces * free_ligand


class HinderedLatticeDiffusion(AbstractTransport):
    """Nearest-neighbour diffusion with `D_eff = D0(T) * hindrance(gap, ligand)`."""

    def diffusivity_nm2_s(self, gap_nm, ligand_nm, temperature_k, params):
        d0 = arrhenius(params.diffusivity_nm2_s, params.Ea_diffusion_kj_mol, temperature_k)
        return d0 * hindrance(gap_nm, ligand_nm, params.steric_width_nm)

    def hop_rate_per_h(self, gap_nm, ligand_nm, pitch_nm, temperature_k, params):
        d_eff = self.diffusivity_nm2_s(gap_nm, ligand_nm, temperature_k, params)
        return 3600.0 * d_eff / pitch_nm**2

    def net_inflow(self, free_ligand, links, k_hop):
        return _net_inflow(free_ligand, links, k_hop)
