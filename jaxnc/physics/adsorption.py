"""Reversible ligand adsorption: charge-enhanced adsorption, second-order Arrhenius desorption.

    ads = k_a(T) * s(gap, ligand) * (gap_ref / gap) * f(q) * c * (1 - theta)
    des = k_d(T) * s(gap, ligand) * theta**2

`f(q) = 1 + alpha q` ([`ChargedSiteAdsorption`][], the default: a charged site adsorbs the
cation `1 + alpha` times faster than a neutral one, so photo-induced adsorption follows the
trapped charge, and through it the absorbed photons) or `exp(alpha q)`
([`ChargeEnhancedAdsorption`][], a Frumkin factor: exponential in the charge, and so in the
irradiance).

The second-order desorption makes the dark decay follow the pseudo-second-order law the paper
fits (H2024, Fig. S6). `s` is a smooth steric factor: a molecule leaving or reaching the
surface must pass through free room in the gap. It is a factor on the transition state, so it
slows both directions alike (microscopic reversibility) and leaves the Langmuir equilibrium
unchanged: a gap that closes on the ligand locks the coverage, in the dark and under light.
`gap_ref / gap` is the dilution of the free ligand: the same amount spread in a wider nanospace
meets the surface less often.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = [
    "GAS_CONSTANT_KJ_MOL_K",
    "REFERENCE_TEMPERATURE_K",
    "arrhenius",
    "steric_factor",
    "AbstractAdsorption",
    "ChargeEnhancedAdsorption",
    "ChargedSiteAdsorption",
]

GAS_CONSTANT_KJ_MOL_K = 8.314462618e-3
REFERENCE_TEMPERATURE_K = 298.15
_CHARGE_CAP = 2.0


def arrhenius(k_ref, Ea_kj_mol, temperature_k):
    """`k(T) = k_ref exp(-Ea/R (1/T - 1/298.15 K))`; `k_ref` is the rate at 298.15 K."""
    inv = 1.0 / temperature_k - 1.0 / REFERENCE_TEMPERATURE_K
    return k_ref * jnp.exp(-Ea_kj_mol / GAS_CONSTANT_KJ_MOL_K * inv)


def steric_factor(gap_nm, ligand_nm, params):
    """Smooth switch in [0, 1]: 0 when the gap closes on the ligand, 1 with room to spare.

    Half-way at `gap - ligand = steric_free_nm`, width `steric_width_nm`.
    """
    free_nm = gap_nm - ligand_nm
    return jax.nn.sigmoid((free_nm - params.steric_free_nm) / params.steric_width_nm)


class AbstractAdsorption(eqx.Module):
    """Adsorption and desorption rates, in coverage units per hour."""

    @abc.abstractmethod
    def rate_constants_per_h(self, gap_nm, ligand_nm, temperature_k, params):
        """`(k_ads, k_des)` (1/h) at this geometry and temperature, before state factors."""

    @abc.abstractmethod
    def rates_per_h(self, coverage, charge, free_ligand, k_ads, k_des, params):
        """`(ads, des)` (1/h): adsorption and desorption fluxes per trap site."""


class _StericArrheniusAdsorption(AbstractAdsorption):
    """Rate constants shared by the adsorption laws: Arrhenius in temperature, the steric
    factor on both directions, the dilution `gap_ref / gap` on adsorption."""

    def rate_constants_per_h(self, gap_nm, ligand_nm, temperature_k, params):
        dilution = params.gap_reference_nm / gap_nm
        steric = steric_factor(gap_nm, ligand_nm, params)
        k_ads = arrhenius(params.k_adsorption_per_h, params.Ea_adsorption_kj_mol, temperature_k)
        k_des = arrhenius(params.k_desorption_per_h, params.Ea_desorption_kj_mol, temperature_k)
        return k_ads * steric * dilution, k_des * steric



class ChargeEnhancedAdsorption(_StericArrheniusAdsorption):
    """Langmuir adsorption with a Frumkin charge factor `exp(alpha q)` and second-order
    desorption (Joos, J. Colloid Interface Sci. 1995, 171, 399 form; cationic DDA+ on a
    negatively charged surface). The factor is exponential in the charge, so the lit
    equilibrium coverage and the rise time depend exponentially on the irradiance while the
    charge is below saturation."""

    def rates_per_h(self, coverage, charge, free_ligand, k_ads, k_des, params):
        # Charge is a fraction in [0, 1]; the cap at 2 never binds for the physical state but
        # keeps exp() finite for wild Newton trial states (an inf there turns the adjoint NaN).
        boost = jnp.exp(params.charge_enhancement * jnp.minimum(charge, _CHARGE_CAP))
        ads = k_ads * boost * free_ligand * (1.0 - coverage)
        des = k_des * coverage**2
        return ads, des


class ChargedSiteAdsorption(_StericArrheniusAdsorption):
    """Two adsorption channels in parallel, the default: cationic DDA+ adsorbs on a neutral
    site with `k_a` and on a site holding a photo-trapped electron (fraction `q`) `1 + alpha`
    times faster, `f(q) = (1 - q) + (1 + alpha) q = 1 + alpha q` (H2024 Fig. 5: "strong
    adsorption of cationic DDAB is expected on the negatively charged surface"). Adsorption
    under light is then proportional to the trapped charge, which follows the absorbed photons
    until it saturates (`jaxnc.physics.trapping`); desorption as in the Frumkin form."""

    def rates_per_h(self, coverage, charge, free_ligand, k_ads, k_des, params):
        boost = 1.0 + params.charge_enhancement * charge
        ads = k_ads * boost * free_ligand * (1.0 - coverage)
        des = k_des * coverage**2
        return ads, des
