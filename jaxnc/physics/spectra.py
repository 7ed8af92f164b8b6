"""PL spectra: each cube's emission energy from confinement, a homogeneous line per cube, and the
ensemble spectrum of an assembly (issue 13, first part: no coupling between cubes yet).

**Emission energy per cube.** Confinement raises a cube's exciton energy as the inverse square
of its edge (the leading term of the effective-mass particle in a box):

    E(L) = E_bulk + C / L^2,

`E_bulk` = `emission_bulk_ev`, `C` = `confinement_ev_nm2` (see their sources in
`Parameters.describe()`).

**Ensemble spectrum.** Each cube emits a Gaussian line in energy with the room-temperature
single-nanocrystal width `homogeneous_fwhm_mev`, weighted by the photons it emits under the
probe (its absorbed probe photons times its PLQY, from the model's optics), so the size spread
(`Assembly(..., edge_sd_nm=)`) sets the inhomogeneous width. As measured by a spectrometer the
spectrum is per wavelength interval: `I(lambda) = I(E) dE/dlambda`, `dE/dlambda = hc /
lambda^2`. Rows are normalised to their maximum.
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["HC_EV_NM", "emission_energy_ev", "ensemble_spectrum", "peak_and_fwhm_nm",
           "DEFAULT_GRID_NM"]

HC_EV_NM = 1239.841984  # h c in eV nm
_FWHM_PER_SIGMA = 2.0 * (2.0 * jnp.log(2.0)) ** 0.5
#: The wavelength grid of `Solution.pl_peak_nm` / `pl_fwhm_nm` (nm): 0.05 nm steps.
DEFAULT_GRID_NM = (440.0, 620.0, 3601)


def emission_energy_ev(edge_nm, params):
    """`E_bulk + C / L^2` (eV) of a cube of edge `edge_nm` (nm)."""
    return params.emission_bulk_ev + params.confinement_ev_nm2 / edge_nm**2


def ensemble_spectrum(wavelength_nm, energies_ev, weights, fwhm_mev):
    """The spectrum per wavelength interval at `wavelength_nm` of cubes emitting Gaussian lines
    (FWHM `fwhm_mev` in energy) at `energies_ev` with `weights` (same shape, any unit; empty
    sites weigh 0), normalised to its maximum on the grid."""
    energy = HC_EV_NM / jnp.asarray(wavelength_nm, dtype=float)
    sigma = 1e-3 * fwhm_mev / _FWHM_PER_SIGMA
    e, w = jnp.ravel(energies_ev), jnp.ravel(weights)
    lines = jnp.exp(-0.5 * ((energy[:, None] - e[None, :]) / sigma) ** 2)
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
