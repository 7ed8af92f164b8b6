"""What a model integrates: the cells an assembly is reduced to, the state on them, and the
per-step coefficients of the vector field."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..parameters import Parameters
from ..physics.spectra import homogeneous_sigma_ev
from ..physics.transfer import TransferFactors, transfer_factors

__all__ = ["Cells", "State", "Coefficients", "cell_transfer"]


class Cells(eqx.Module):
    """What a model integrates over. Per-cube quantities are averages over a cell's cubes.

    **Fields:**

    - `weight`: cubes in each cell (0 for an empty site).
    - `area`: mean relative surface area (trap sites) of a cube, `(L_i / edge_nm)**2`.
    - `cross_section_size`: mean `(L_i / edge_nm)**p`, the size factor of the cross-section.
    - `depth_cubes`: mean number of cubes above (Beer–Lambert depth).
    - `open_faces`: mean open faces per cube (escape).
    - `enclosure`: mean shared faces per cube over 6 (scales the initial free ligand).
    - `confined`: fraction of the cell's cubes with at least one shared face, i.e. with a
      nanospace that can hold free ligand.
    - `links`: per axis, the number of shared faces between neighbouring cells.
    - `pitch_nm`: centre-to-centre distance of face-sharing cubes (edge + gap).
    - `energy_ev`: mean emission energy of a cell's cubes (eV; confinement and coupling to
      neighbours, `jaxnc.physics.spectra.site_energies_ev`): downhill exciton transfer.
    - `edge_shift_ev`: mean coupling shift of a cell's cubes (eV, negative): their absorption
      edge, for reabsorption.
    - `film_cubes`: mean thickness (cubes) of the film a cell's cubes sit in, 0 for cubes
      sharing no face (`jaxnc.physics.reabsorption`).
    - `edge_nm`: mean cube edge of the assembly (nm).
    - `solution_ligand`: free ligand in the solution around each cube (ML per cube), for
      cubes dispersed in a ligand solution (`Assembly.dispersion`), else 0.
    - `transfer`: the energy-dependent factors of exciton transfer between cells
      (`jaxnc.physics.transfer.transfer_factors`), computed once per solve.
    """

    weight: Float[Array, ...]
    area: Float[Array, ...]
    cross_section_size: Float[Array, ...]
    depth_cubes: Float[Array, ...]
    open_faces: Float[Array, ...]
    enclosure: Float[Array, ...]
    confined: Float[Array, ...]
    links: tuple[Float[Array, ...], ...]
    pitch_nm: Float[Array, ""]
    energy_ev: Float[Array, ...]
    edge_shift_ev: Float[Array, ...]
    film_cubes: Float[Array, ...]
    edge_nm: Float[Array, ""]
    solution_ligand: Float[Array, ...]
    transfer: TransferFactors

    @property
    def occupied(self):
        return self.weight > 0


def cell_transfer(links, weight, energy_ev, params) -> TransferFactors:
    """`Cells.transfer` of cells with these links, cubes per cell and energies."""
    return transfer_factors(links, weight > 0, weight, energy_ev, homogeneous_sigma_ev(params))


class State(eqx.Module):
    """ODE state: per-cell coverage `theta`, trapped charge `q`, free ligand `c` (ML per cube),
    the scalar `lost` (ML, total over the assembly) and per-cell photodegradation `damage`
    (quenching sites created by light, in units of `traps_per_cube`; zeros if not given, for
    states built before ageing existed)."""

    coverage: Float[Array, ...]
    charge: Float[Array, ...]
    free_ligand: Float[Array, ...]
    lost: Float[Array, ""]
    damage: Float[Array, ...] = None

    def __post_init__(self):
        if self.damage is None:
            self.damage = jnp.zeros_like(self.coverage)


class Coefficients(eqx.Module):
    """Everything the vector field needs during one protocol step, computed once per step."""

    cells: Cells
    params: Parameters
    generation_per_s: Float[Array, ...]
    k_ads_per_h: Float[Array, ""]
    k_des_per_h: Float[Array, ""]
    k_hop_per_h: Float[Array, ""]
    escape_confined: Float[Array, ""]
