"""The result of a simulation."""

from __future__ import annotations

import equinox as eqx
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ..runtime import write_csv_atomic

__all__ = ["Solution"]


class Solution(eqx.Module):
    """Saved trajectories of a simulation.

    **Fields** (`T` saved times; a step boundary is saved once):

    - `time_h`: `(T,)` time since the protocol start (h).
    - `plqy`: `(T,)` ensemble PL quantum yield, a fraction in [0, 1].
    - `lifetime_ns`: `(T,)` intensity-weighted average PL lifetime (ns).
    - `ligand_adsorbed`, `ligand_free`, `ligand_lost`: `(T,)` ligand totals over the assembly,
      in monolayer equivalents (ML; 1 ML covers every trap site of one mean-size cube).
      `ligand_lost` is integrated from the escape flux as a state of its own.
    - `coverage`, `charge`, `free_ligand`, `damage`: `(T, *cells)` per-cell fields: the
      lattice `(nx, ny, nz)` for `field`, the layers `(nz,)` for `mean_field`. `damage`:
      quenching sites created by light (`jaxnc.physics.ageing`), in units of
      `traps_per_cube`.
    - `step_index`: `(T,)` protocol step each saved time belongs to.
    - `step_ok`: `(n_steps,)` whether each step's solve succeeded.
    - `solver_steps`: `(n_steps,)` accepted + rejected solver steps per protocol step.
    - `model`: model name; `kinds`: `"light"`/`"dark"` per protocol step.
    - `source`: `(model, assembly, params)` the solution came from (for [`pl_decay`][]).
    """

    time_h: Float[Array, " T"]
    plqy: Float[Array, " T"]
    lifetime_ns: Float[Array, " T"]
    ligand_adsorbed: Float[Array, " T"]
    ligand_free: Float[Array, " T"]
    ligand_lost: Float[Array, " T"]
    coverage: Float[Array, "T ..."]
    charge: Float[Array, "T ..."]
    free_ligand: Float[Array, "T ..."]
    damage: Float[Array, "T ..."]
    step_index: Int[Array, " T"]
    step_ok: Bool[Array, " steps"]
    solver_steps: Int[Array, " steps"]
    model: str = eqx.field(static=True)
    kinds: tuple[str, ...] = eqx.field(static=True)
    source: tuple | None = None

    def pl_decay(self, t_ns, at=None) -> Array:
        """`(T, len(t_ns))` normalised PL decay `I(t)/I(0)` after a short probe pulse (at
        `probe_wavelength_nm`, 450 nm by default) in the state saved at every time (or at
        the saved-time indices `at` only: `(len(at), len(t_ns))`), `t_ns` in ns from the
        pulse; computed on demand from the model's optics (for excitons that
        move between cubes, a linear ODE on the ns scale per saved time). Its intensity-weighted
        average `int t I dt / int I dt` is the internal lifetime; `lifetime_ns` adds the
        films' photon recycling (`tau / (1 - eta P)`, `jaxnc.physics.reabsorption`), which
        this decay leaves out."""
        import jax
        import jax.numpy as jnp

        from ..errors import JaxncError

        if self.source is None:
            raise JaxncError("this Solution does not carry its model, assembly and parameters "
                             "(build it with jaxnc.simulate)")
        model, assembly, params = self.source
        cells = model.cells(assembly, params)
        probe = model.probe_weight(cells, assembly, params)
        t = jnp.asarray(t_ns, dtype=float)
        states = (self.coverage, self.charge, self.damage)
        if at is not None:
            states = tuple(s[jnp.asarray(at)] for s in states)
        return jax.vmap(lambda cov, q, d: model.optics.pl_decay(t, cov, q, cells, probe, params,
                                                                d))(*states)

    def pl_spectrum(self, wavelength_nm) -> Array:
        """`(T, len(wavelength_nm))` PL spectrum (per wavelength interval) under the probe at
        every saved time, each row normalised to its maximum: each cube's line at its
        confinement energy, weighted by the photons it emits (see `jaxnc.physics.spectra`)."""
        import jax.numpy as jnp

        return _spectra(self._spectrum_source(), self.coverage, self.charge, self.damage,
                        jnp.asarray(wavelength_nm, dtype=float))

    @property
    def pl_peak_nm(self) -> Array:
        """`(T,)` wavelength of the PL maximum (nm), on a 0.05 nm grid refined by a parabola."""
        return self._peak_and_fwhm()[0]

    @property
    def pl_fwhm_nm(self) -> Array:
        """`(T,)` full width at half maximum of the PL spectrum (nm)."""
        return self._peak_and_fwhm()[1]

    def _spectrum_source(self):
        from ..errors import JaxncError

        if self.source is None:
            raise JaxncError("this Solution does not carry its model, assembly and parameters "
                             "(build it with jaxnc.simulate)")
        return self.source

    def _peak_and_fwhm(self):
        import jax.numpy as jnp

        from ..physics.spectra import DEFAULT_GRID_NM

        grid = jnp.linspace(*DEFAULT_GRID_NM)
        return _peaks(self._spectrum_source(), self.coverage, self.charge, self.damage, grid)

    @property
    def light(self) -> np.ndarray:
        """`(T,)` 1 where the saved time belongs to a light step, else 0."""
        is_light = np.array([k == "light" for k in self.kinds], dtype=int)
        return is_light[np.asarray(self.step_index)]

    @property
    def ligand_total(self) -> Array:
        """`(T,)` adsorbed + free + lost (ML); constant up to round-off."""
        return self.ligand_adsorbed + self.ligand_free + self.ligand_lost

    def step_slice(self, k: int) -> slice:
        """Saved-time indices of protocol step `k` (including its start point)."""
        idx = np.asarray(self.step_index)
        where = np.nonzero(idx == k)[0]
        start = where[0] - 1 if k > 0 else where[0]
        return slice(int(start), int(where[-1]) + 1)

    def state_at(self, index: int):
        """The state saved at `index` (into `time_h`) as a `jaxnc.models.State`, to continue
        from it with `simulate(..., initial_state=)`."""
        from ..models import State

        return State(
            coverage=self.coverage[index],
            charge=self.charge[index],
            free_ligand=self.free_ligand[index],
            lost=self.ligand_lost[index],
            damage=self.damage[index],
        )

    def final_state(self):
        """The last saved state as a `jaxnc.models.State`, to continue with `initial_state=`."""
        return self.state_at(-1)

    def columns(self) -> dict[str, np.ndarray]:
        """The 1D trajectories as NumPy columns, in CSV order."""
        return {
            "time_h": np.asarray(self.time_h),
            "step": np.asarray(self.step_index) + 1,
            "light": self.light,
            "plqy": np.asarray(self.plqy),
            "lifetime_ns": np.asarray(self.lifetime_ns),
            "ligand_adsorbed": np.asarray(self.ligand_adsorbed),
            "ligand_free": np.asarray(self.ligand_free),
            "ligand_lost": np.asarray(self.ligand_lost),
        }

    def to_csv(self, path) -> None:
        """Write the 1D trajectories to `path` (CSV with a header), whole or not at all."""
        write_csv_atomic(path, self.columns())


def spectrum_of_state(model, assembly, params, coverage, charge, damage, wavelength_nm):
    """The observed PL spectrum (per wavelength interval, normalised to its maximum) at
    `wavelength_nm` of one state of `model` on `assembly`: each site's line at its energy
    (confinement and coupling), weighted by the photons it emits under the probe, and the
    film's reabsorption (`jaxnc.physics.reabsorption`)."""
    import jax.numpy as jnp

    from ..physics.reabsorption import film_absorbance, film_thickness_cubes
    from ..physics.spectra import ensemble_spectrum, site_coupling_shift_ev, site_energies_ev

    cells = model.cells(assembly, params)
    probe = model.probe_weight(cells, assembly, params)
    film = jnp.ravel(film_thickness_cubes(assembly))
    shift = jnp.ravel(site_coupling_shift_ev(assembly, params))

    def escape(energy):  # the light that leaves the film
        return jnp.exp(-film_absorbance(energy, film, shift, assembly.edge_nm,
                                        assembly.pitch_nm, model.generation, params))

    weights = model.site_emission(coverage, charge, cells, assembly, probe, params, damage)
    return ensemble_spectrum(wavelength_nm, site_energies_ev(assembly, params), weights,
                             params.homogeneous_fwhm_mev, escape)


@eqx.filter_jit
def _spectra(source, coverage, charge, damage, wavelength_nm):
    import jax

    model, assembly, params = source
    return jax.vmap(lambda c, q, d: spectrum_of_state(model, assembly, params, c, q, d,
                                                      wavelength_nm))(coverage, charge, damage)


@eqx.filter_jit
def _peaks(source, coverage, charge, damage, grid):
    import jax

    from ..physics.spectra import peak_and_fwhm_nm

    return jax.vmap(lambda s: peak_and_fwhm_nm(grid, s))(_spectra(source, coverage, charge,
                                                                  damage, grid))
