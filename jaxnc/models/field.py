"""`field`: the full 3D lattice, one cell per site."""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx

from ..geometry import Assembly
from ..parameters import Parameters
from ..physics.reabsorption import film_thickness_cubes
from ..physics.spectra import site_coupling_shift_ev, site_energies_ev
from ._base import AbstractModel
from ._state import Cells, cell_transfer

__all__ = ["FieldModel"]


class FieldModel(AbstractModel):
    """Every cube is its own cell; free ligand diffuses between shared faces of the lattice."""

    name: ClassVar[str] = "field"

    # Compiled: called on its own (a solution's read-outs, the reproduction, tests) it is one
    # program, not a hundred one-operation ones; inside a solve it is inlined.
    @eqx.filter_jit
    def cells(self, assembly: Assembly, params: Parameters) -> Cells:
        rel = assembly.edge_relative
        links = (assembly.link_x, assembly.link_y, assembly.link_z)
        energy = site_energies_ev(assembly, params)
        return Cells(
            weight=assembly.mask,
            area=rel**2,
            cross_section_size=rel**params.cross_section_size_exponent,
            depth_cubes=assembly.depth_cubes,
            open_faces=assembly.open_faces,
            enclosure=assembly.shared_faces / 6.0,
            confined=(assembly.shared_faces > 0).astype(float),
            links=links,
            pitch_nm=assembly.pitch_nm,
            energy_ev=energy,
            edge_shift_ev=site_coupling_shift_ev(assembly, params),
            film_cubes=film_thickness_cubes(assembly),
            edge_nm=assembly.edge_nm,
            solution_ligand=(params.dispersion_free_ligand if assembly.in_solution else 0.0)
            * assembly.mask,
            transfer=cell_transfer(links, assembly.mask, energy, params),
        )
