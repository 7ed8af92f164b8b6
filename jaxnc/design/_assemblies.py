"""The assemblies a sweep simulates: the `film` factory and one template per layer count.

Gap and ligand length enter each point as traced values of a template (its lattice topology
does not depend on them); only the layer count changes the assembly's shape, so each layer
count is its own template and its own compiled batch.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ParameterError
from ..geometry import Assembly

__all__ = ["film", "assembly_templates"]


def film(kind: str = "supercrystal", nx: int = 4, ny: int = 4, nz: int = 4, n: int = 16,
         edge_nm: float = 9.8) -> Callable[..., Assembly]:
    """An assembly factory for [`sweep`][]: `factory(gap_nm=, ligand_nm=, layers=None)`.

    **Arguments:**

    - `kind`: `"supercrystal"` (`nx * ny * layers` cubes, `layers` defaulting to `nz`),
      `"monolayer"` (`nx * ny`) or `"isolated"` (`n` cubes).
    - `edge_nm`: cube edge (nm).
    """
    if kind not in ("supercrystal", "monolayer", "isolated"):
        raise ParameterError(f"film kind must be supercrystal, monolayer or isolated, got "
                             f"{kind!r}")

    def factory(gap_nm, ligand_nm, layers=None) -> Assembly:
        lengths = dict(edge_nm=edge_nm, gap_nm=gap_nm, ligand_nm=ligand_nm)
        if kind == "isolated":
            if layers is not None:
                raise ParameterError("isolated cubes have no layers to sweep")
            return Assembly.isolated(n, **lengths)
        if kind == "monolayer":
            if layers is not None:
                raise ParameterError("a monolayer has one layer; sweep layers of a supercrystal")
            return Assembly.monolayer(nx, ny, **lengths)
        return Assembly.supercrystal(nx, ny, nz if layers is None else int(layers), **lengths)

    factory.__name__ = f"film({kind!r}, nx={nx}, ny={ny}, nz={nz}, n={n}, edge_nm={edge_nm})"
    return factory


def assembly_templates(assembly_factory, gap0, ligand0, layers) -> dict:
    """The assembly of each layer count in `layers` (key None: not swept), built at the first
    grid values `gap0`, `ligand0` (nm)."""
    if isinstance(assembly_factory, Assembly):
        if layers is not None:
            raise ParameterError("sweeping layers needs an assembly factory (e.g. "
                                 "jaxnc.design.film('supercrystal', nx=4, ny=4)), not an Assembly")
        return {None: assembly_factory}
    factory = film(assembly_factory) if isinstance(assembly_factory, str) else assembly_factory
    if not callable(factory):
        raise ParameterError(f"assembly_factory must be an Assembly, a kind or a callable "
                             f"factory(gap_nm=, ligand_nm=[, layers=]), got "
                             f"{type(assembly_factory).__name__}")
    out = {}
    for n in ([None] if layers is None else [int(v) for v in layers]):
        extra = {} if n is None else dict(layers=n)
        asm = factory(gap_nm=float(gap0), ligand_nm=float(ligand0), **extra)
        if not isinstance(asm, Assembly):
            raise ParameterError(f"assembly_factory returned {type(asm).__name__}, not an "
                                 f"Assembly")
        out[n] = asm
    return out
