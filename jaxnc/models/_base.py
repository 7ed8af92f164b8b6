"""The composed model: state, per-step coefficients, vector field and observables.

Both models integrate the same processes over *cells*. In `field` a cell is one lattice site;
in `mean_field` a cell is a whole layer represented by one average cube. A model differs only
in how it reduces an `Assembly` to `Cells` (its `cells` method); every rate law is shared, so
the hierarchy stays consistent by construction and the reduction is what the tests check.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from ..geometry import Assembly
from ..parameters import Parameters
from ..physics.adsorption import AbstractAdsorption, ChargedSiteAdsorption
from ..physics.ageing import AbstractAgeing, PhotoDegradation
from ..physics.excitons import ExcitonFieldOptics
from ..physics.generation import AbstractGeneration, BeerLambertGeneration
from ..physics.optics import AbstractOptics
from ..physics.reabsorption import reabsorbed_fraction, recycled
from ..physics.spectra import homogeneous_sigma_ev
from ..physics.transport import AbstractTransport, HinderedLatticeDiffusion
from ..physics.trapping import AbstractTrapCharging, SurfaceTrapCharging
from ._jacobian import AbstractJacobian, LocalTransportJacobian
from ._state import Cells, Coefficients, State

__all__ = ["AbstractModel"]


class AbstractModel(eqx.Module):
    """A model of the assembly: swappable processes, composed into one vector field.

    Subclasses provide `cells(assembly, params)`; everything else is shared.
    """

    generation: AbstractGeneration = BeerLambertGeneration()
    trapping: AbstractTrapCharging = SurfaceTrapCharging()
    adsorption: AbstractAdsorption = ChargedSiteAdsorption()
    transport: AbstractTransport = HinderedLatticeDiffusion()
    optics: AbstractOptics = ExcitonFieldOptics()
    ageing: AbstractAgeing = PhotoDegradation()
    #: How its `W = I - a J` is solved (what the Rosenbrock-W solvers ask the term for).
    jacobian: AbstractJacobian = LocalTransportJacobian()

    #: model name used by `simulate(model=...)`; set by each concrete model.
    name: ClassVar[str]

    @abc.abstractmethod
    def cells(self, assembly: Assembly, params: Parameters) -> Cells:
        """Reduce an assembly to the cells this model integrates over."""

    # ---------------------------------------------------------------------------------------
    def initial_state(self, cells: Cells, params: Parameters) -> State:
        """Coverage `coverage_initial`, no charge, free ligand in proportion to enclosure, no
        damage; cubes in a ligand solution (`Cells.solution_ligand > 0`) start at adsorption
        equilibrium with it in the dark at 298.15 K."""
        occ = cells.weight > 0
        zeros = jnp.zeros_like(cells.weight)
        in_solution = cells.solution_ligand > 0
        return State(
            coverage=jnp.where(occ, jnp.where(in_solution, self._dark_equilibrium(cells, params),
                                              params.coverage_initial), 0.0),
            charge=zeros,
            free_ligand=jnp.where(occ, jnp.where(in_solution, cells.solution_ligand,
                                                 params.free_ligand_initial * cells.enclosure),
                                  0.0),
            lost=jnp.zeros(()),
            damage=zeros,
        )

    def _dark_equilibrium(self, cells: Cells, params: Parameters):
        """Coverage at which adsorption from `solution_ligand` balances desorption, no charge,
        298.15 K: the root in [0, 1] of `k_a c (1 - theta) = k_d theta^2`, `K = k_a c / k_d`
        (the steric factor cancels; the dilution is the reference gap's)."""
        gap = params.gap_reference_nm
        k_ads, k_des = self.adsorption.rate_constants_per_h(gap, 0.0, 298.15, params)
        k = k_ads * cells.solution_ligand / k_des
        k = jnp.where(cells.solution_ligand > 0, k, 1.0)  # films: unused, and sqrt(0) has no
        return 0.5 * (jnp.sqrt(k * k + 4.0 * k) - k)  # derivative (NaN through `where`)

    def coefficients(
        self, cells: Cells, assembly: Assembly, params: Parameters, wavelength_nm,
        irradiance_mw_cm2, temperature_k,
    ) -> Coefficients:
        """Per-step constants: generation per cube, rate constants at this temperature."""
        gap, lig, pitch = assembly.gap_nm, assembly.ligand_nm, assembly.pitch_nm
        gen = self.generation.rate_per_s(
            irradiance_mw_cm2, wavelength_nm, cells, assembly.edge_nm, pitch, params
        )
        k_ads, k_des = self.adsorption.rate_constants_per_h(gap, lig, temperature_k, params)
        k_hop = self.transport.hop_rate_per_h(gap, lig, pitch, temperature_k, params)
        chance = self.transport.escape_chance(gap, lig, params)
        return Coefficients(cells, params, jnp.where(cells.occupied, gen, 0.0), k_ads, k_des,
                            k_hop, chance)

    def carriers(self, coverage, charge, co: Coefficients, guess=None, damage=0.0):
        """Mean excitons per cube under the step's generation (see the model's `optics`);
        `guess`: nearby carriers an iterative solve may start from."""
        return self.optics.carriers(coverage, charge, co.generation_per_s, co.cells, co.params,
                                    guess, damage)

    def damage_rate(self, co: Coefficients):
        """d damage / dt per hour, per cube: constant through a protocol step (it depends on
        the step's generation only)."""
        rate = 3600.0 * self.ageing.rate_per_s(co.generation_per_s, co.params)
        return jnp.where(co.cells.occupied, rate, 0.0)

    def local_rates(self, coverage, charge, free_ligand, co: Coefficients, carriers=None,
                    damage=0.0):
        """Everything but transport and ageing, cell by cell (each cell's rates depend on that
        cell only, given its `carriers`; computed from the optics with `damage` when not
        given, which is exact for local optics).

        **Returns:** `(d coverage, d charge, d free_ligand, escaped)` per hour: the first three
        per cube, `escaped` the ligand leaving each cell (its cubes times the escape rate,
        ML/h) whose sum is `d lost`. Empty cells get zeros.
        """
        cells, p = co.cells, co.params
        theta, q, c = coverage, charge, free_ligand
        if carriers is None:
            carriers = self.carriers(theta, q, co, damage=damage)
        dq = 3600.0 * self.trapping.rate_per_s(q, theta, carriers, p)
        ads, des = self.adsorption.rates_per_h(theta, q, c, co.k_ads_per_h, co.k_des_per_h, p)
        escape = self.transport.escape_per_h(c, cells.open_faces, cells.confined,
                                             co.k_hop_per_h, co.escape_confined)
        occ = cells.occupied
        return (
            jnp.where(occ, ads - des, 0.0),
            jnp.where(occ, dq, 0.0),
            jnp.where(occ, cells.area * (des - ads) - escape, 0.0),
            jnp.where(occ, cells.weight * escape, 0.0),
        )

    def transport_rate(self, free_ligand, co: Coefficients):
        """d free_ligand / dt (ML per cube per hour) from exchange between cells: linear in
        `free_ligand`, and conserving `sum(weight * free_ligand)` exactly."""
        cells = co.cells
        occ = cells.occupied
        inflow = self.transport.net_inflow(free_ligand, cells.links, co.k_hop_per_h)
        return jnp.where(occ, inflow / jnp.where(occ, cells.weight, 1.0), 0.0)

    def vector_field(self, t, y: State, co: Coefficients) -> State:
        """Time derivatives per hour: local kinetics plus transport."""
        carriers = self.carriers(y.coverage, y.charge, co, damage=y.damage)
        d_theta, d_q, d_c, escaped = self.local_rates(y.coverage, y.charge, y.free_ligand, co,
                                                      carriers)
        return State(
            coverage=d_theta,
            charge=d_q,
            free_ligand=d_c + self.transport_rate(y.free_ligand, co),
            lost=jnp.sum(escaped),
            damage=self.damage_rate(co),
        )

    def probe_weight(self, cells: Cells, assembly: Assembly, params: Parameters):
        """Absorbed probe photons per cell (any unit): the ensemble-average weights."""
        frac = self.generation.absorbed_fraction(
            params.probe_wavelength_nm, cells, assembly.edge_nm, assembly.pitch_nm, params
        )
        return jnp.where(cells.occupied, cells.weight * frac, 0.0)

    def absorbed_photons_cm2_s(self, assembly: Assembly, params: Parameters, irradiance_mw_cm2,
                               wavelength_nm):
        """Photons the assembly absorbs per second per cm² of its footprint (`nx * ny`
        lattice sites of `pitch_nm`) at `irradiance_mw_cm2` (mW/cm²) and `wavelength_nm`
        (nm): the generation rate summed over its cubes, per area, so that it grows with a
        film's thickness but not with the lateral size of the simulated piece (what PL
        intensity under that light is proportional to, times the PLQY)."""
        cells = self.cells(assembly, params)
        rate = self.generation.rate_per_s(irradiance_mw_cm2, wavelength_nm, cells,
                                          assembly.edge_nm, assembly.pitch_nm, params)
        nx, ny, _ = assembly.shape
        area_cm2 = nx * ny * assembly.pitch_nm**2 * 1e-14
        return jnp.sum(jnp.where(cells.occupied, cells.weight * rate, 0.0)) / area_cm2

    def absorbed_photons_per_step(self, assembly: Assembly, params: Parameters, protocol):
        """`absorbed_photons_cm2_s` under every step's light of `protocol` (a `Protocol` or
        its `StepArrays`): `(n_steps,)`, 0 in dark steps."""
        return jax.vmap(lambda irr, nm: self.absorbed_photons_cm2_s(assembly, params, irr, nm))(
            protocol.irradiance_mw_cm2, protocol.wavelength_nm)

    def site_emission(self, coverage, charge, cells: Cells, assembly: Assembly, probe_weight,
                      params: Parameters, damage=0.0):
        """Photons each lattice site's cube emits under the probe (relative; 0 for empty
        sites), the weights of the PL spectrum: the model's per-cell emission spread over its
        sites (see the model's `_to_sites`)."""
        per_cube = self.optics.emission(coverage, charge, cells, probe_weight, params, damage)
        return self._to_sites(per_cube, cells, assembly, params)

    def _to_sites(self, per_cube, cells: Cells, assembly: Assembly, params: Parameters):
        """Per-cell values per cube on the lattice sites; default: a cell is a site."""
        return jnp.where(assembly.mask, per_cube, 0.0)

    def reabsorbed(self, emission, cells: Cells, params: Parameters):
        """Emission-weighted fraction of the cubes' light that the film reabsorbs
        (`jaxnc.physics.reabsorption`); `emission` per cube of each cell."""
        p = reabsorbed_fraction(cells.energy_ev, homogeneous_sigma_ev(params), cells.film_cubes,
                                cells.edge_shift_ev, cells.edge_nm, cells.pitch_nm,
                                self.generation, params)
        w = jnp.where(cells.occupied, cells.weight * emission, 0.0)
        return jnp.sum(w * p) / jnp.sum(w)

    def observables(self, y: State, cells: Cells, probe_weight, params: Parameters) -> dict:
        """Ensemble PLQY (fraction) and average lifetime (ns) as observed (photon recycling
        in films included, `jaxnc.physics.reabsorption`) and ligand totals (ML)."""
        occ = cells.occupied
        plqy, lifetime, emission = self.optics.probe_response(
            y.coverage, y.charge, cells, probe_weight, params, y.damage)
        plqy, lifetime = recycled(plqy, lifetime, self.reabsorbed(emission, cells, params))
        return dict(
            plqy=plqy,
            lifetime_ns=lifetime,
            ligand_adsorbed=jnp.sum(jnp.where(occ, cells.weight * cells.area * y.coverage, 0.0)),
            ligand_free=jnp.sum(jnp.where(occ, cells.weight * y.free_ligand, 0.0)),
            ligand_lost=y.lost,
        )
