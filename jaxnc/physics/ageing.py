"""Ageing under light: a slow photodegradation channel that creates quenching sites.

Under continuous 468 nm light the 3D array does not hold its 68.3 % maximum for ever: H2024
reports about 60 % after 6000 h (Fig. S8). The films are sealed from oxygen, and adsorbed DDAB
protects the surface against crystal growth and oxidation (H2024 and its refs. 12, 59), so the
slow loss is taken as damage done by the absorbed photons themselves: each absorbed photon
leaves, with a small probability, a quenching site that ligand cannot passivate. Per cube

    d damage / dt = photodegradation_per_photon * G,

`G` the absorbed photons per second (`jaxnc.physics.generation`), `damage` in units of a bare
cube's quenching sites (`traps_per_cube`): a cube's mean trap count is
`traps_per_cube * (a(theta, q) + damage)` ([`jaxnc.physics.optics.active_trap_fraction`][]).
It does not heal in the dark. Its rate is set by the ~60 % after 6000 h (an estimate of the
mechanism; the paper does not say why the PLQY falls).
"""

from __future__ import annotations

import abc

import equinox as eqx

__all__ = ["AbstractAgeing", "PhotoDegradation"]


class AbstractAgeing(eqx.Module):
    """Rate of the per-cube `damage` state."""

    @abc.abstractmethod
    def rate_per_s(self, generation_per_s, params):
        """`d damage / dt` (1/s) of each cube absorbing `generation_per_s` photons per
        second; independent of the rest of the state, so constant through a protocol step."""


class PhotoDegradation(AbstractAgeing):
    """`d damage / dt = photodegradation_per_photon * G` (module docstring)."""

    def rate_per_s(self, generation_per_s, params):
        return params.photodegradation_per_photon * generation_per_s
