"""`mean_field`: one representative cube per layer, layers coupled by vertical diffusion.

Within a layer transport is taken as fast (one free-ligand pool per layer); between layers the
flux is `k_hop * (shared vertical faces) * (c_upper - c_lower)`. Per-cube quantities are layer
averages. Exact for the full lattice when transport within each layer is fast; the test suite
checks it against `field` in that limit.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from ..geometry import Assembly
from ..parameters import Parameters
from ..physics.excitons import ExcitonFieldOptics
from ..physics.optics import AbstractOptics
from ..physics.reabsorption import film_thickness_cubes
from ..physics.spectra import site_coupling_shift_ev, site_energies_ev
from ._base import AbstractModel
from ._jacobian import AbstractJacobian, DenseJacobian
from ._state import Cells, cell_transfer

__all__ = ["MeanFieldModel"]


class MeanFieldModel(AbstractModel):
    """Layer-averaged ODEs: `4 * nz + 1` unknowns, whatever the lateral size.

    Its default optics leave out downhill transfer (`ExcitonFieldOptics(downhill=False)`):
    with one cube per layer the only energy differences left are the surface layers' weaker
    coupling (a few meV), whose downhill transfer moves the PLQY by < 1e-4 relative (4.6e-5 on
    the default 3D array over "light 3h; dark 100h", 0 on a monolayer), below the reduction's
    own error against `field` (5e-4), and costs a quarter of every mean-field program's
    compile time (4.0 s against 3.2 s for a three-step protocol). `field` keeps it.
    """

    name: ClassVar[str] = "mean_field"
    optics: AbstractOptics = ExcitonFieldOptics(downhill=False)
    # Tens of unknowns: the exact dense Jacobian, one small LU per step.
    jacobian: AbstractJacobian = DenseJacobian()

    # Compiled: called on its own (a solution's read-outs, the reproduction, tests) it is one
    # program, not a hundred one-operation ones; inside a solve it is inlined.
    @eqx.filter_jit
    def cells(self, assembly: Assembly, params: Parameters) -> Cells:
        mask = assembly.mask
        count = jnp.sum(mask, axis=(0, 1))
        safe = jnp.where(count > 0, count, 1.0)

        def layer_mean(a):
            return jnp.sum(mask * a, axis=(0, 1)) / safe

        rel = assembly.edge_relative
        links = (jnp.sum(assembly.link_z, axis=(0, 1)),)
        energy = layer_mean(site_energies_ev(assembly, params))
        return Cells(
            weight=count,
            area=layer_mean(rel**2),
            cross_section_size=layer_mean(rel**params.cross_section_size_exponent),
            depth_cubes=layer_mean(assembly.depth_cubes),
            open_faces=layer_mean(assembly.open_faces),
            enclosure=layer_mean(assembly.shared_faces / 6.0),
            confined=layer_mean((assembly.shared_faces > 0).astype(float)),
            links=links,
            pitch_nm=assembly.pitch_nm,
            energy_ev=energy,
            edge_shift_ev=layer_mean(site_coupling_shift_ev(assembly, params)),
            film_cubes=layer_mean(film_thickness_cubes(assembly)),
            edge_nm=assembly.edge_nm,
            solution_ligand=(params.dispersion_free_ligand if assembly.in_solution else 0.0)
            * (count > 0),
            transfer=cell_transfer(links, count, energy, params),
        )

    def _to_sites(self, per_cube, cells, assembly, params):
        """A layer's emission per cube spread over its sites in proportion to each cube's
        absorption (`(L_i / L)^p` over the layer mean): the layer's cubes share one coverage
        and exciton density, but larger cubes absorb, and so emit, more."""
        rel = assembly.edge_relative ** params.cross_section_size_exponent
        share = rel / jnp.where(cells.cross_section_size > 0, cells.cross_section_size, 1.0)
        return jnp.where(assembly.mask, per_cube[None, None, :] * share, 0.0)
