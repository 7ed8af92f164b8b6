"""PL spectra: each cube's emission energy from confinement and from its coupling to its
neighbours, a homogeneous line per cube, and the ensemble spectrum of an assembly.

**Emission energy per cube.** Confinement raises a cube's exciton energy as the inverse square
of its edge (the leading term of the effective-mass particle in a box):

    E(L) = E_bulk + C / L^2,

`E_bulk` = `emission_bulk_ev`, `C` = `confinement_ev_nm2` (see their sources in
`Parameters.describe()`), lowered by the electronic coupling to face-sharing neighbours
([`coupling_shift_ev`][]: the paper's "mini-bands").

**Ensemble spectrum.** Each cube emits a Gaussian line in energy with the room-temperature
single-nanocrystal width `homogeneous_fwhm_mev`, weighted by the photons it emits under the
probe (its absorbed probe photons times its PLQY, from the model's optics), so the size spread
(`Assembly(..., edge_sd_nm=)`) sets the inhomogeneous width. As measured by a spectrometer the
spectrum is per wavelength interval: `I(lambda) = I(E) dE/dlambda`, `dE/dlambda = hc /
lambda^2`. Rows are normalised to their maximum. Downhill transfer between cubes of
different energy (`jaxnc.physics.excitons`) and reabsorption in films
(`jaxnc.physics.reabsorption`) shape the weights and the light that leaves.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["HC_EV_NM", "FWHM_PER_SIGMA", "homogeneous_sigma_ev", "emission_energy_ev",
           "coupling_ev", "coupling_shift_ev", "site_coupling_shift_ev", "site_energies_ev",
           "ensemble_spectrum", "peak_and_fwhm_nm", "DEFAULT_GRID_NM"]

HC_EV_NM = 1239.841984  # h c in eV nm
FWHM_PER_SIGMA = 2.0 * (2.0 * jnp.log(2.0)) ** 0.5
#: The wavelength grid of `Solution.pl_peak_nm` / `pl_fwhm_nm` (nm): 0.05 nm steps.
DEFAULT_GRID_NM = (440.0, 620.0, 3601)


def homogeneous_sigma_ev(params):
    """Standard deviation (eV) of one cube's Gaussian line, from `homogeneous_fwhm_mev`."""
    return 1e-3 * params.homogeneous_fwhm_mev / FWHM_PER_SIGMA


def emission_energy_ev(edge_nm, params):
    """`E_bulk + C / L^2` (eV) of a cube of edge `edge_nm` (nm)."""
    return params.emission_bulk_ev + params.confinement_ev_nm2 / edge_nm**2


def coupling_ev(gap_nm, ligand_nm, params):
    """Electronic coupling `t` (eV) between two face-sharing cubes across the gap: tunnelling
    through the ligand shells where they fill the gap (amplitude decay length
    `coupling_decay_nm`) and through empty room beyond both shells (`vacuum_decay_nm`),
    `t = coupling_mev exp(-(filled - gap_ref) / decay - empty / vacuum_decay)`, `filled` a
    smooth `min(gap, 2 ligand)` (width `steric_width_nm`) and `empty = gap - filled`."""
    w = params.steric_width_nm
    filled = gap_nm - w * jax.nn.softplus((gap_nm - 2.0 * ligand_nm) / w)
    empty = gap_nm - filled
    exponent = (-(filled - params.gap_reference_nm) / params.coupling_decay_nm
                - empty / params.vacuum_decay_nm)
    return 1e-3 * params.coupling_mev * jnp.exp(exponent)


def coupling_shift_ev(edge_nm, neighbours, gap_nm, ligand_nm, params):
    """Red shift (eV, negative) of a cube's exciton from its coupling to `neighbours`
    face-sharing cubes: `-D tanh(z t / D)`, the bottom of a tight-binding band (`z t`) while
    small, bounded by the confinement energy `D = C / L^2` (a fully delocalised exciton
    emits at the bulk energy, no lower)."""
    depth = params.confinement_ev_nm2 / edge_nm**2
    t = coupling_ev(gap_nm, ligand_nm, params)
    return -depth * jnp.tanh(neighbours * t / depth)


def site_coupling_shift_ev(assembly, params):
    """[`coupling_shift_ev`][] of every lattice site's cube (`(nx, ny, nz)`, eV): its own
    edge and the cubes it shares faces with (`Assembly.shared_faces`)."""
    edge = assembly.edge_nm * assembly.edge_relative
    return coupling_shift_ev(edge, assembly.shared_faces, assembly.gap_nm, assembly.ligand_nm,
                             params)


def site_energies_ev(assembly, params):
    """Emission energy (eV) of every lattice site's cube (`(nx, ny, nz)`; empty sites get the
    mean cube's): confinement by its own edge, lowered by its coupling to its neighbours."""
    edge = assembly.edge_nm * assembly.edge_relative
    return emission_energy_ev(edge, params) + site_coupling_shift_ev(assembly, params)


def ensemble_spectrum(wavelength_nm, energies_ev, weights, fwhm_mev, escape=None):
    """The spectrum per wavelength interval at `wavelength_nm` of cubes emitting Gaussian lines
    (FWHM `fwhm_mev` in energy) at `energies_ev` with `weights` (same shape, any unit; empty
    sites weigh 0), normalised to its maximum on the grid. `escape(energy_ev)`: the fraction
    of each site's light at that photon energy that leaves the sample (shape `(grid, sites)`
    from `(grid, 1)` energies; None: all of it)."""
    energy = HC_EV_NM / jnp.asarray(wavelength_nm, dtype=float)
    sigma = 1e-3 * fwhm_mev / FWHM_PER_SIGMA  # homogeneous_sigma_ev, from a value in meV
    e, w = jnp.ravel(energies_ev), jnp.ravel(weights)
    lines = jnp.exp(-0.5 * ((energy[:, None] - e[None, :]) / sigma) ** 2)
    if escape is not None:
        lines = lines * escape(energy[:, None])
    per_energy = lines @ w
    per_wavelength = per_energy * energy**2 / HC_EV_NM
    return per_wavelength / jnp.max(per_wavelength)


def peak_and_fwhm_nm(wavelength_nm, spectrum):
    """`(peak, fwhm)` (nm) of a spectrum on an even grid: the maximum refined by the parabola
    through its grid neighbours, the half-maximum crossings by linear interpolation."""
    lam = jnp.asarray(wavelength_nm, dtype=float)
    s = spectrum / jnp.max(spectrum)
    step = lam[1] - lam[0]
    i = jnp.clip(jnp.argmax(s), 1, lam.size - 2)
    left, mid, right = s[i - 1], s[i], s[i + 1]
    curvature = left - 2.0 * mid + right
    offset = jnp.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
    peak = lam[i] + offset * step

    def crossing(inside, outside, lam_in, lam_out):
        frac = (inside - 0.5) / (inside - outside)
        return lam_in + frac * (lam_out - lam_in)

    above = s >= 0.5
    idx = jnp.arange(lam.size)
    first = jnp.min(jnp.where(above, idx, lam.size))
    last = jnp.max(jnp.where(above, idx, -1))
    lo_i, hi_i = jnp.maximum(first, 1), jnp.minimum(last, lam.size - 2)
    blue = crossing(s[lo_i], s[lo_i - 1], lam[lo_i], lam[lo_i - 1])
    red = crossing(s[hi_i], s[hi_i + 1], lam[hi_i], lam[hi_i + 1])
    # A half maximum outside the grid: NaN rather than a width cut off by the grid's ends.
    inside_grid = (first > 0) & (last < lam.size - 1)
    return peak, jnp.where(inside_grid, red - blue, jnp.nan)
