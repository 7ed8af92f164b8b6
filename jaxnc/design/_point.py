"""What one grid point computes: a simulation of the protocol and its design metrics.

Each point carries two forward-mode tangents (gap and ligand length) through the solver, so its
metrics come with exact derivatives of the discrete solve, not differences of neighbouring grid
points.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..geometry import Assembly
from ..models import AbstractModel
from ..parameters import Parameters
from ..protocol import Protocol
from ..solve import SolverSettings, solve_at, spectrum_of_state
from ._metrics import METRICS, evaluate
from ._readout import Reading

__all__ = ["PointProblem"]


class PointProblem(eqx.Module):
    """One simulation per grid point, with forward-mode tangents for gap and ligand length."""

    model: AbstractModel
    template: Assembly
    params: Parameters
    protocol: Protocol
    settings: SolverSettings
    local_times_h: jax.Array
    metrics: tuple = eqx.field(static=True)
    swept_irradiance: bool = eqx.field(static=True)
    swept_temperature: bool = eqx.field(static=True)

    def _point(self, geometry, irradiance, temperature):
        asm = eqx.tree_at(lambda a: (a.gap_nm, a.ligand_nm), self.template,
                          (geometry[0], geometry[1]))
        proto = self.protocol
        if self.swept_irradiance:
            light = np.asarray([k == "light" for k in proto.kinds])
            proto = eqx.tree_at(lambda p: p.irradiance_mw_cm2, proto,
                                jnp.where(light, irradiance, 0.0))
        if self.swept_temperature:
            proto = eqx.tree_at(lambda p: p.temperature_k, proto,
                                jnp.full(proto.n_steps, temperature, dtype=float))
        ys, obs, codes, _ = solve_at(self.model, asm, self.params, proto, self.settings,
                                     self.local_times_h)
        rate = self._plqy_rate(asm, proto, ys)
        if any(METRICS[m].needs_spectrum for m in self.metrics):
            obs = dict(obs, pl_peak_nm=self._peak(asm, ys, proto.kinds.index("light")))
        values, flags = evaluate(self.metrics, Reading(proto.kinds, self.local_times_h, obs,
                                                       rate))
        values = jnp.where(jnp.all(codes == 0), values, jnp.nan)
        return values, (values, flags, codes)

    def _peak(self, asm, ys, step):
        """PL peak (nm) of the state saved last in protocol step `step`."""
        from ..physics.spectra import DEFAULT_GRID_NM, peak_and_fwhm_nm

        y = jax.tree.map(lambda leaf: leaf[step, -1], ys)
        grid = jnp.linspace(*DEFAULT_GRID_NM)
        spectrum = spectrum_of_state(self.model, asm, self.params, y.coverage, y.charge,
                                     y.damage, grid)
        return peak_and_fwhm_nm(grid, spectrum)[0]

    def _plqy_rate(self, asm, proto, ys):
        """dPLQY/dt (1/h) at every saved state: the vector field pushed through the PLQY."""
        model, params = self.model, self.params
        cells = model.cells(asm, params)
        probe = model.probe_weight(cells, asm, params)

        def per_step(y_step, wavelength, irradiance, temperature):
            co = model.coefficients(cells, asm, params, wavelength, irradiance, temperature)

            def rate(y):
                def plqy(state):
                    return model.observables(state, cells, probe, params)["plqy"]

                return jax.jvp(plqy, (y,), (model.vector_field(0.0, y, co),))[1]

            return jax.vmap(rate)(y_step)

        return jax.vmap(per_step)(ys, proto.wavelength_nm, proto.irradiance_mw_cm2,
                                  proto.temperature_k)

    def values(self, gap, ligand, irradiance, temperature):
        """At gap and ligand length (nm), light-step irradiance (mW/cm²) and temperature (K),
        the last two used only where swept: metric values `(M,)`, NaN gradients `(M, 2)` (not
        computed), metric flags `(M,)` and per-step solver result codes `(steps,)`."""
        _, (values, flags, codes) = self._point(jnp.stack([gap, ligand]), irradiance,
                                                temperature)
        return values, jnp.full(values.shape + (2,), jnp.nan), flags, codes

    def values_and_gradients(self, gap, ligand, irradiance, temperature):
        """As `values`, with the gradients `(M, 2)` with respect to gap and ligand length
        (metric units per nm) by forward mode through the solve."""
        jac, (values, flags, codes) = jax.jacfwd(
            lambda g: self._point(g, irradiance, temperature), has_aux=True
        )(jnp.stack([gap, ligand]))
        # A NaN value (failed solve, undefined metric) came through `where`, whose derivative
        # is 0: its gradient is NaN too, not 0.
        jac = jnp.where(jnp.isfinite(values)[:, None], jac, jnp.nan)
        return values, jac, flags, codes
