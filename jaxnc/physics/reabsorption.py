"""Reabsorption and photon recycling in films of nanocubes.

Light emitted inside a film on a substrate is mostly trapped in it and the substrate (total
internal reflection) and travels along the film before it leaves; on the way the cubes
reabsorb its blue side and re-emit it. Self-absorption is the largest part of the PL red shift
measured on CsPbBr3 nanocrystal superlattices (up to >= 50 meV of ~96 meV; Baranov, Toso,
Imran and Manna, J. Phys. Chem. Lett. 2019, 10.1021/acs.jpclett.9b00178, abstract), and photon
recycling lengthens the observed PL lifetime of dense perovskite nanocrystal films
(reabsorbed photons are emitted again, later).

**Model.** A photon of energy `E` emitted by a cube in a film `N` cubes thick is reabsorbed
with probability `P(E) = 1 - exp(-g N sigma(E) / pitch^2)`: `N sigma / pitch^2` is the film's
absorbance at normal incidence (`jaxnc.physics.generation`, evaluated with the absorption
edge lowered by the cube's coupling shift, since its neighbours absorb at their coupled
energies) and `g` (`reabsorption_path_factor`) how many film thicknesses the light travels
before it escapes. Cubes that share no face (isolated cubes, lying apart on the substrate) and
the dilute dispersion have `N = 0`. With the internal PLQY `eta`, the emission-weighted mean
`P` over the internal spectrum and `r = eta P`, every generation of re-emitted light leaves
with the same spectrum `S(E) (1 - P(E))` and one more lifetime of delay, so

    PLQY_obs = eta (1 - P) / (1 - r),   tau_obs = tau / (1 - r),   S_obs(E) ~ S(E) (1 - P(E)),

`tau` the intensity-weighted average lifetime (the first moment of the decay: each recycling
adds one). Reabsorbed photons also add carriers; that small extra generation is not fed back
into the kinetics.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .generation import _NM2_PER_CM2
from .spectra import HC_EV_NM

__all__ = ["film_thickness_cubes", "film_absorbance", "reabsorbed_fraction", "recycled"]

# Gauss-Hermite nodes and weights for the mean over one homogeneous (Gaussian) line.
_NODES, _WEIGHTS = np.polynomial.hermite.hermgauss(16)


def film_thickness_cubes(assembly):
    """Per lattice site, the cubes in its column (`(nx, ny, nz)`): the thickness of the film
    it sits in; 0 for a cube sharing no face with another (isolated cubes lie apart)."""
    column = jnp.sum(assembly.mask, axis=2, keepdims=True)
    return jnp.where(assembly.shared_faces > 0, column * assembly.mask, 0.0)


def film_absorbance(energy_ev, film_cubes, edge_shift_ev, edge_nm, pitch_nm, generation,
                    params):
    """`g N sigma(E - shift) / pitch^2` along the light's path in the film (module
    docstring); broadcasts `energy_ev` (eV) against the per-cell `film_cubes` and
    `edge_shift_ev` (the coupling shift, negative)."""
    wavelength = HC_EV_NM / (energy_ev - edge_shift_ev)
    sigma = generation.cross_section_cm2(wavelength, edge_nm, params)
    per_layer = sigma * _NM2_PER_CM2 / pitch_nm**2
    return params.reabsorption_path_factor * film_cubes * per_layer


def reabsorbed_fraction(energies_ev, sigma_ev, film_cubes, edge_shift_ev, edge_nm, pitch_nm,
                        generation, params):
    """Per cell, the fraction of its emission (a Gaussian line of standard deviation
    `sigma_ev` at `energies_ev`) reabsorbed in the film: `P(E)` averaged over the line."""
    e = energies_ev[..., None] + np.sqrt(2.0) * sigma_ev * _NODES
    a = film_absorbance(e, film_cubes[..., None], edge_shift_ev[..., None], edge_nm, pitch_nm,
                        generation, params)
    return jnp.sum(_WEIGHTS * -jnp.expm1(-a), axis=-1) / np.sqrt(np.pi)


def recycled(plqy, lifetime_ns, reabsorbed):
    """Observed `(PLQY, average lifetime)` from the internal ones and the emission-weighted
    reabsorbed fraction (module docstring)."""
    r = plqy * reabsorbed
    return plqy * (1.0 - reabsorbed) / (1.0 - r), lifetime_ns / (1.0 - r)
