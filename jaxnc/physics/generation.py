"""Carrier generation: photon flux, absorption cross-section, Beer–Lambert attenuation.

Carriers live nanoseconds, adsorption hours: carriers are taken in quasi-steady state,
`n_i = G_i * tau_i` (mean number of carriers in cube `i`), never as a stiff state.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp

from .spectra import HC_EV_NM

__all__ = [
    "photon_energy_ev",
    "photon_flux_cm2_s",
    "AbstractGeneration",
    "BeerLambertGeneration",
]

_EV_J = 1.602176634e-19
_NM2_PER_CM2 = 1e14
_REFERENCE_EDGE_NM = 9.8  # the cube size the literature cross-section refers to
_SPECTRAL_SMOOTHING_EV = 0.02  # ~kT: rounds the absorption onset so it stays differentiable


def photon_energy_ev(wavelength_nm):
    """Photon energy (eV) at `wavelength_nm` (nm)."""
    return HC_EV_NM / wavelength_nm


def photon_flux_cm2_s(irradiance_mw_cm2, wavelength_nm):
    """Photon flux (photons cm⁻² s⁻¹) of monochromatic light of `irradiance_mw_cm2` (mW/cm²)."""
    return irradiance_mw_cm2 * 1e-3 / (photon_energy_ev(wavelength_nm) * _EV_J)


class AbstractGeneration(eqx.Module):
    """Carrier generation: how many photons each cube absorbs per second."""

    @abc.abstractmethod
    def cross_section_cm2(self, wavelength_nm, edge_nm, params):
        """Absorption cross-section (cm²) of a cube of edge `edge_nm` at `wavelength_nm`."""

    @abc.abstractmethod
    def absorbed_fraction(self, wavelength_nm, cells, edge_nm, pitch_nm, params):
        """Per cube: cross-section (cm²) times the transmission of the cubes above it."""

    def rate_per_s(self, irradiance_mw_cm2, wavelength_nm, cells, edge_nm, pitch_nm, params):
        """Photons absorbed per cube per second, `G_i` (1/s)."""
        flux = photon_flux_cm2_s(irradiance_mw_cm2, wavelength_nm)
        return flux * self.absorbed_fraction(wavelength_nm, cells, edge_nm, pitch_nm, params)


class BeerLambertGeneration(AbstractGeneration):
    """Cross-section growing with excess photon energy above the absorption onset and with
    cube size (`sigma ~ L**p`), attenuated layer by layer through the film.

    Each cube layer above absorbs the fraction `sigma / pitch**2` of the light it receives
    (the cube's cross-section over the lattice cell area), so transmission to a cube with `d`
    cubes above it is `exp(-d * sigma / pitch**2)`.
    """

    def cross_section_cm2(self, wavelength_nm, edge_nm, params):
        e = photon_energy_ev(wavelength_nm)
        e_edge = photon_energy_ev(params.absorption_edge_nm)
        e_400 = photon_energy_ev(400.0)
        w = _SPECTRAL_SMOOTHING_EV
        excess = w * jax.nn.softplus((e - e_edge) / w)
        excess_400 = w * jax.nn.softplus((e_400 - e_edge) / w)
        size = (edge_nm / _REFERENCE_EDGE_NM) ** params.cross_section_size_exponent
        return params.cross_section_400nm_cm2 * size * excess / excess_400

    def absorbed_fraction(self, wavelength_nm, cells, edge_nm, pitch_nm, params):
        sigma_mean = self.cross_section_cm2(wavelength_nm, edge_nm, params)
        per_layer_absorbance = sigma_mean * _NM2_PER_CM2 / pitch_nm**2
        transmission = jnp.exp(-cells.depth_cubes * per_layer_absorbance)
        return sigma_mean * cells.cross_section_size * transmission
