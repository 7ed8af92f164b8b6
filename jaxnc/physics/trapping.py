"""Surface trap charging by photo-generated electrons (Br⁻ vacancies, H2024 Fig. 5)."""

from __future__ import annotations

import abc

import equinox as eqx

__all__ = ["AbstractTrapCharging", "SurfaceTrapCharging"]


class AbstractTrapCharging(eqx.Module):
    """Rate of change of the trapped-charge fraction `q`."""

    @abc.abstractmethod
    def rate_per_s(self, charge, coverage, carriers, params):
        """`dq/dt` (1/s) given `q`, coverage `theta` and carriers per cube `n`."""


class SurfaceTrapCharging(AbstractTrapCharging):
    """`dq/dt = k_trap n (1 - q) - k_release q` (default), or the blocked-capture form
    `dq/dt = k_trap n (1 - q)(1 - theta) - k_release q` with `ligand_blocks_capture=True`.

    Electrons captured from the carriers `n` (excitons per cube) charge the surface; they are
    released with a first-order rate, so the surface discharges in the dark. In steady state
    `q = x / (1 + x)` with `x = k_trap n / k_release`: proportional to the absorbed photons
    while `x << 1` (the default set has `x` of order 1 at 10 mW/cm² and 468 nm, so activation
    follows irradiance and absorption; see `docs/model.md`).

    `ligand_blocks_capture` (static): only unpassivated sites `(1 - theta)` capture. Then the
    charge that drives adsorption vanishes as the coverage approaches 1, and a lit state at
    ~99 % coverage (the 68.3 % maximum) keeps its charge only if `x >> 100`, i.e. if charging
    saturates within seconds at any irradiance, which makes activation blind to dose and
    wavelength (issue 13). By default a trapped electron stays on the surface whether or not a
    ligand has adsorbed next to it (the adsorbed cation is what it attracts).
    """

    ligand_blocks_capture: bool = eqx.field(static=True, default=False)

    def rate_per_s(self, charge, coverage, carriers, params):
        capture = params.k_trap_per_s * carriers * (1.0 - charge)
        if self.ligand_blocks_capture:
            capture = capture * (1.0 - coverage)
        return capture - params.k_release_per_s * charge
