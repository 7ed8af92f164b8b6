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
    """`dq/dt = k_trap n (1 - q)(1 - theta) - k_release q`.

    Only unpassivated trap sites (`1 - theta`) capture electrons; trapped electrons are released
    with a first-order rate, so the surface discharges in the dark.
    """

    def rate_per_s(self, charge, coverage, carriers, params):
        capture = params.k_trap_per_s * carriers * (1.0 - charge) * (1.0 - coverage)
        return capture - params.k_release_per_s * charge
