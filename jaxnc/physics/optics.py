"""Observables: per-cube and ensemble PLQY and average PL lifetime.

Per cube `PLQY_i = k_r / (k_r + k_nr0 + k_trap_nr a_i)` and `tau_i = 1/(k_r + k_nr_i)`, with
the active trap fraction `a_i = (1 - theta_i)(1 - (1 - f_q) q_i) + D_i`
([`active_trap_fraction`][]): unpassivated sites, of which the fraction `q` holding a
photo-trapped electron quench at `f_q` (parameter `charged_trap_quenching`) of an empty site's
rate, plus the sites photodegradation created (`damage` `D`, `jaxnc.physics.ageing`).
The ensemble PLQY is the mean weighted by absorbed probe photons; the average PL lifetime is
the intensity-weighted mean `sum(a_i tau_i^2) / sum(a_i tau_i)` with amplitudes `a_i`
proportional to the absorbed probe photons (the usual "average lifetime" of a multi-exponential
decay).
"""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

__all__ = [
    "active_trap_fraction",
    "decay_rate_per_ns",
    "plqy",
    "lifetime_ns",
    "probe_per_cube",
    "ensemble_plqy",
    "ensemble_lifetime_ns",
    "AbstractOptics",
    "QuasiStaticOptics",
]


def active_trap_fraction(coverage, charge, params, damage=0.0):
    """Quenching strength of a cube's surface over that of a bare, uncharged one:
    `(1 - theta)(1 - (1 - f_q) q) + damage`. Unpassivated sites (`1 - theta`) quench; those
    holding a photo-trapped electron (the fraction `q`) quench at `f_q =
    charged_trap_quenching` of an empty site's rate (trap filling: a filled electron trap
    captures no second electron); `damage`: sites created by photodegradation, which ligand
    does not passivate (`jaxnc.physics.ageing`)."""
    return (1.0 - coverage) * (1.0 - (1.0 - params.charged_trap_quenching) * charge) + damage


def decay_rate_per_ns(coverage, params, charge=0.0, damage=0.0):
    """Total decay rate `k_r + k_nr0 + k_trap_nr a` (1/ns), `a` the
    [`active_trap_fraction`][] (trapped charge `charge` and `damage`, none by default)."""
    return (
        params.k_radiative_per_ns
        + params.k_nonradiative_per_ns
        + params.k_trap_nonradiative_per_ns
        * active_trap_fraction(coverage, charge, params, damage)
    )


def plqy(coverage, params, charge=0.0, damage=0.0):
    """PL quantum yield (fraction) of a cube with trap coverage `coverage`, trapped charge
    `charge` and photodegradation `damage`."""
    return params.k_radiative_per_ns / decay_rate_per_ns(coverage, params, charge, damage)


def lifetime_ns(coverage, params, charge=0.0, damage=0.0):
    """PL lifetime (ns) of a cube with trap coverage `coverage`, trapped charge `charge` and
    photodegradation `damage`.

    The decay rate is floored at half its full-coverage value: this never binds for
    coverage in [0, 1], but keeps the lifetime finite for the out-of-range trial states a
    Newton iteration may visit (a coverage above ~1.3 would otherwise divide by zero and
    poison the adjoint with NaN).
    """
    floor = 0.5 * (params.k_radiative_per_ns + params.k_nonradiative_per_ns)
    return 1.0 / jnp.maximum(decay_rate_per_ns(coverage, params, charge, damage), floor)


def probe_per_cube(probe_weight, cells):
    """Absorbed probe photons per cube from a model's per-cell `probe_weight`."""
    occ = cells.occupied
    return jnp.where(occ, probe_weight / jnp.where(occ, cells.weight, 1.0), 0.0)


def ensemble_plqy(plqy_cells, probe_weight):
    """Probe-absorption-weighted mean PLQY over cells."""
    return jnp.sum(probe_weight * plqy_cells) / jnp.sum(probe_weight)


def ensemble_lifetime_ns(lifetime_cells, probe_weight):
    """Intensity-weighted average PL lifetime (ns) over cells."""
    return jnp.sum(probe_weight * lifetime_cells**2) / jnp.sum(probe_weight * lifetime_cells)


class AbstractOptics(eqx.Module):
    """How cubes hold excitons and emit: the carriers that charge traps (per cube, in quasi-
    steady state under the step's generation) and the ensemble PLQY and average lifetime a
    probe measures.

    `local` (class attribute) says whether a cube's carriers depend on that cube alone; the
    factorised Rosenbrock-W solvers then differentiate them with the local kinetics, and
    otherwise hold them at the step's start in `W` (a W-method's order holds for any `W`).
    `cells` are the model's `Cells` (occupancy, area, enclosure, links, pitch). Every method
    takes each cell's `coverage` and trapped `charge`, and its photodegradation `damage`
    (keyword, none by default).
    """

    local: ClassVar[bool] = True

    def check(self, params) -> None:
        """Raise `ParameterError` for concrete parameter values these optics cannot
        represent (default: none)."""

    @abc.abstractmethod
    def carriers(self, coverage, charge, generation_per_s, cells, params, guess=None,
                 damage=0.0):
        """Mean number of excitons per cube under `generation_per_s` (absorbed photons per
        cube per second), given each cell's coverage and trapped charge; `guess`: nearby
        carriers an iterative solve may start from (the result does not depend on it)."""

    @abc.abstractmethod
    def observe(self, coverage, charge, cells, probe_weight, params, damage=0.0):
        """`(plqy, lifetime_ns)` of the ensemble under a probe absorbed as `probe_weight`;
        the lifetime is the intensity-weighted average of the decay after a short pulse,
        `int t I dt / int I dt` (for a multi-exponential `sum a tau^2 / sum a tau`)."""

    @abc.abstractmethod
    def emission(self, coverage, charge, cells, probe_weight, params, damage=0.0):
        """Photons each cube of each cell emits under the probe absorbed as `probe_weight`
        (relative units; the weights of the ensemble PL spectrum)."""

    def probe_response(self, coverage, charge, cells, probe_weight, params, damage=0.0):
        """`(plqy, lifetime_ns, emission)`: [`observe`][] and [`emission`][] together (optics
        that share work between them override this)."""
        plqy, lifetime = self.observe(coverage, charge, cells, probe_weight, params, damage)
        return plqy, lifetime, self.emission(coverage, charge, cells, probe_weight, params,
                                             damage)

    @abc.abstractmethod
    def pl_decay(self, t_ns, coverage, charge, cells, probe_weight, params, damage=0.0):
        """Normalised PL decay `I(t)/I(0)` at `t_ns` after a short pulse absorbed as
        `probe_weight`."""


class QuasiStaticOptics(AbstractOptics):
    """Each cube on its own, one smooth quenching rate `k_trap_nr a(theta, q)`: carriers
    `G tau` and the formulas of this module (the optics of jaxnc before the exciton field;
    no transfer, no trap-count statistics)."""

    def carriers(self, coverage, charge, generation_per_s, cells, params, guess=None,
                 damage=0.0):
        return generation_per_s * lifetime_ns(coverage, params, charge, damage) * 1e-9

    def observe(self, coverage, charge, cells, probe_weight, params, damage=0.0):
        return (ensemble_plqy(plqy(coverage, params, charge, damage), probe_weight),
                ensemble_lifetime_ns(lifetime_ns(coverage, params, charge, damage),
                                     probe_weight))

    def emission(self, coverage, charge, cells, probe_weight, params, damage=0.0):
        return probe_per_cube(probe_weight, cells) * plqy(coverage, params, charge, damage)

    def pl_decay(self, t_ns, coverage, charge, cells, probe_weight, params, damage=0.0):
        """`sum_i a_i exp(-t / tau_i) / sum_i a_i`, amplitudes the absorbed probe photons."""
        tau = lifetime_ns(coverage, params, charge, damage)
        t = jnp.asarray(t_ns)[:, None]
        w = probe_weight.ravel()[None, :]
        return jnp.sum(w * jnp.exp(-t / tau.ravel()[None, :]), axis=1) / jnp.sum(w)
