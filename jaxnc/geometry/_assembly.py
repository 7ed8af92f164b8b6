"""Assembly geometry: a lattice of cube sites, which are occupied, and which faces are shared.

The lattice is a static `(nx, ny, nz)` box; `z = 0` is the layer on the substrate and light
enters from the top (`z = nz - 1`). Each occupied site holds one nanocube. A face between two
occupied neighbours is *shared*: the ~2-3 nm nanospace between them holds free ligand and lets it
diffuse. A face with no cube behind it is *open*: free ligand can escape the assembly through it
(film top, film edges, faces next to vacancies, every face of an isolated cube). The bottom face
of a film on its substrate is neither shared nor open.

The continuous geometry (`edge_nm`, `gap_nm`, `ligand_nm`) stays a traced JAX value so that
simulated observables can be differentiated with respect to it; the integer topology (mask,
links, face counts) is derived once, in NumPy, when the assembly is built.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..errors import ParameterError, is_concrete

__all__ = ["Assembly"]

_KINDS = ("isolated", "monolayer", "supercrystal", "dispersion", "custom")


def _scalar(value) -> Array:
    return jnp.asarray(value, dtype=float)


def _check_length(name: str, value) -> None:
    """A known length must be positive and finite (a traced one is checked when known)."""
    if is_concrete(value) and not (np.isfinite(value) and float(value) > 0.0):
        raise ParameterError(f"Assembly {name} must be a positive length, got {value}")


class Assembly(eqx.Module):
    """A lattice assembly of CsPbBr3 nanocubes.

    Build one with a factory: [`Assembly.supercrystal`][], [`Assembly.monolayer`][],
    [`Assembly.isolated`][], [`Assembly.dispersion`][] or [`Assembly.from_mask`][].

    **Fields:**

    - `mask`: `(nx, ny, nz)` 1.0 where a cube sits, 0.0 at a vacancy.
    - `link_x`, `link_y`, `link_z`: 1.0 where the face between site `i` and its `+x` (`+y`, `+z`)
      neighbour is shared by two cubes; shapes `(nx-1, ny, nz)`, `(nx, ny-1, nz)`, `(nx, ny, nz-1)`.
    - `open_faces`: `(nx, ny, nz)` number of faces through which free ligand can escape.
    - `shared_faces`: `(nx, ny, nz)` number of faces shared with another cube (0-6).
    - `depth_cubes`: `(nx, ny, nz)` number of cubes between this one and the illuminated top.
    - `edge_relative`: `(nx, ny, nz)` each cube's edge length divided by `edge_nm` (1.0 for a
      monodisperse assembly).
    - `edge_nm`: mean cube edge length (nm).
    - `gap_nm`: inter-cube gap, face to face (nm).
    - `ligand_nm`: ligand length (nm); DDAB is ~1.6 nm.
    - `kind`: which factory built it (static; a label, no physics reads it).
    - `in_solution`: the cubes are dispersed in a ligand solution (static;
      [`Assembly.dispersion`][]): free ligand around every cube, at adsorption equilibrium.
    """

    mask: Float[Array, "nx ny nz"]
    link_x: Float[Array, "nxm ny nz"]
    link_y: Float[Array, "nx nym nz"]
    link_z: Float[Array, "nx ny nzm"]
    open_faces: Float[Array, "nx ny nz"]
    shared_faces: Float[Array, "nx ny nz"]
    depth_cubes: Float[Array, "nx ny nz"]
    edge_relative: Float[Array, "nx ny nz"]
    edge_nm: Float[Array, ""] = eqx.field(converter=_scalar)
    gap_nm: Float[Array, ""] = eqx.field(converter=_scalar)
    ligand_nm: Float[Array, ""] = eqx.field(converter=_scalar)
    kind: str = eqx.field(static=True, default="custom")
    in_solution: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        if self.kind not in _KINDS:
            raise ParameterError(f"Assembly kind must be one of {_KINDS}, got {self.kind!r}")
        for name in ("edge_nm", "gap_nm", "ligand_nm"):
            _check_length(name, getattr(self, name))

    # ------------------------------------------------------------------------------ factories
    @classmethod
    def from_mask(
        cls,
        mask,
        *,
        edge_nm: float = 9.8,
        gap_nm: float = 3.0,
        ligand_nm: float = 1.6,
        edge_sd_nm: float = 0.0,
        key: Array | None = None,
        connected: bool = True,
        on_substrate: bool = True,
        kind: str = "custom",
        in_solution: bool | None = None,
    ) -> Assembly:
        """Build an assembly from a boolean occupancy mask.

        **Arguments:**

        - `mask`: boolean array of shape `(nx, ny, nz)` (a 2D mask is taken as one layer).
        - `edge_nm`, `gap_nm`, `ligand_nm`: mean edge length, face-to-face gap and ligand
          length (nm). They stay differentiable.
        - `edge_sd_nm`: standard deviation of the edge length (nm); needs `key`. The paper's
          TEM value is 1.1 nm.
        - `key`: a `jax.random` key for the edge-length draw.
        - `connected`: if False, no face is shared even between adjacent sites (isolated cubes).
        - `on_substrate`: if True the bottom faces of the `z = 0` layer rest on the substrate and
          are not open; if False every unshared face is open.
        - `kind`: a label; one of `"isolated"`, `"monolayer"`, `"supercrystal"`,
          `"dispersion"`, `"custom"`.
        - `in_solution`: the cubes sit in a ligand solution (see `Assembly.dispersion`);
          default: when `kind` is `"dispersion"`.

        **Returns:** an `Assembly`.

        **Raises:** `ParameterError` for an empty mask, a bad shape or impossible lengths.
        """
        occ = np.asarray(mask, dtype=bool)
        if occ.ndim == 2:
            occ = occ[:, :, None]
        if occ.ndim != 3:
            raise ParameterError(f"Assembly mask must be 2D or 3D, got shape {occ.shape}")
        if not occ.any():
            raise ParameterError("Assembly mask has no occupied site")
        if edge_sd_nm < 0:
            raise ParameterError(f"Assembly edge_sd_nm must be >= 0, got {edge_sd_nm}")
        if edge_sd_nm > 0 and key is None:
            raise ParameterError("Assembly edge_sd_nm > 0 needs a PRNG `key` to draw edge lengths")

        lx, ly, lz, open_faces, shared, depth = _topology(occ, connected, on_substrate)
        rel = _edge_relative(occ, edge_nm, edge_sd_nm, key)
        # Converted on the host: a device-side conversion compiles one program per shape.
        f = lambda a: jnp.asarray(np.asarray(a, dtype=np.float64))  # noqa: E731
        return cls(
            mask=f(occ),
            link_x=f(lx),
            link_y=f(ly),
            link_z=f(lz),
            open_faces=f(open_faces),
            shared_faces=f(shared),
            depth_cubes=f(depth),
            edge_relative=f(rel),
            edge_nm=edge_nm,
            gap_nm=gap_nm,
            ligand_nm=ligand_nm,
            kind=kind,
            in_solution=kind == "dispersion" if in_solution is None else bool(in_solution),
        )

    @classmethod
    def supercrystal(
        cls,
        nx: int = 8,
        ny: int = 8,
        nz: int = 4,
        *,
        edge_nm: float = 9.8,
        gap_nm: float = 3.0,
        ligand_nm: float = 1.6,
        vacancy_fraction: float = 0.0,
        edge_sd_nm: float = 0.0,
        key: Array | None = None,
    ) -> Assembly:
        """A 3D ordered array (mesocrystal) of `nx * ny * nz` cubes on a substrate.

        **Arguments:**

        - `nx`, `ny`, `nz`: cubes along each axis; `nz` layers thick.
        - `edge_nm`, `gap_nm`, `ligand_nm`: lengths in nm (defaults: the paper's 9.8, 3.0, 1.6).
        - `vacancy_fraction`: probability that a site is empty (drawn with `key`).
        - `edge_sd_nm`: edge-length spread (nm; the paper's TEM gives 1.1), drawn with `key`.
        - `key`: `jax.random` key, needed when `vacancy_fraction` or `edge_sd_nm` is non-zero.
        """
        for name, n in (("nx", nx), ("ny", ny), ("nz", nz)):
            if int(n) != n or n < 1:
                raise ParameterError(f"Assembly {name} must be a positive integer, got {n}")
        if not 0.0 <= vacancy_fraction < 1.0:
            raise ParameterError(f"vacancy_fraction must be in [0, 1), got {vacancy_fraction}")
        shape = (int(nx), int(ny), int(nz))
        mask = np.ones(shape, dtype=bool)
        edge_key = key
        if vacancy_fraction > 0:
            if key is None:
                raise ParameterError("vacancy_fraction > 0 needs a PRNG `key` to place vacancies")
            vac_key, edge_key = jax.random.split(key)
            mask = np.asarray(jax.random.uniform(vac_key, shape) >= vacancy_fraction)
        kind = "monolayer" if nz == 1 else "supercrystal"
        return cls.from_mask(
            mask,
            edge_nm=edge_nm,
            gap_nm=gap_nm,
            ligand_nm=ligand_nm,
            edge_sd_nm=edge_sd_nm,
            key=edge_key,
            kind=kind,
        )

    @classmethod
    def monolayer(cls, nx: int = 8, ny: int = 8, **kwargs) -> Assembly:
        """A 2D ordered array: one layer of `nx * ny` cubes. Keywords as in `supercrystal`."""
        return cls.supercrystal(nx, ny, 1, **kwargs)

    @classmethod
    def isolated(
        cls,
        n: int = 16,
        *,
        edge_nm: float = 9.8,
        gap_nm: float = 3.0,
        ligand_nm: float = 1.6,
        edge_sd_nm: float = 0.0,
        key: Array | None = None,
    ) -> Assembly:
        """`n` isolated cubes, randomly deposited: no shared face, every face open.

        `gap_nm` still sets the ligand-shell geometry (steric factor, hindered escape) but no
        nanospace holds free ligand between cubes.
        """
        return cls._apart(n, "isolated", edge_nm, gap_nm, ligand_nm, edge_sd_nm, key)

    @classmethod
    def dispersion(
        cls,
        n: int = 16,
        *,
        edge_nm: float = 9.8,
        gap_nm: float = 3.0,
        ligand_nm: float = 1.6,
        edge_sd_nm: float = 0.0,
        key: Array | None = None,
    ) -> Assembly:
        """`n` cubes dispersed in toluene, the state before deposition (H2024: PLQY 64.9 %,
        lifetime 15.2 ns, 515 nm): no neighbours, and free DDAB in the solution around every
        cube (`Parameters.dispersion_free_ligand`), at adsorption equilibrium from the start
        (the models' `initial_state`). No face is open: ligand that desorbs stays in the
        solution. Dilute: no reabsorption. `gap_nm` and `ligand_nm` only enter the ligand
        kinetics' steric factors, as for isolated cubes.
        """
        cubes = cls._apart(n, "dispersion", edge_nm, gap_nm, ligand_nm, edge_sd_nm, key,
                           in_solution=True)
        return eqx.tree_at(lambda a: a.open_faces, cubes, jnp.zeros_like(cubes.open_faces))

    @classmethod
    def _apart(cls, n, kind, edge_nm, gap_nm, ligand_nm, edge_sd_nm, key,
               in_solution=False) -> Assembly:
        """`n` cubes sharing no face, none on a substrate face (isolated or dispersed)."""
        if int(n) != n or n < 1:
            raise ParameterError(f"Assembly n must be a positive integer, got {n}")
        return cls.from_mask(
            np.ones((int(n), 1, 1), dtype=bool),
            edge_nm=edge_nm,
            gap_nm=gap_nm,
            ligand_nm=ligand_nm,
            edge_sd_nm=edge_sd_nm,
            key=key,
            connected=False,
            on_substrate=False,
            kind=kind,
            in_solution=in_solution,
        )

    # ---------------------------------------------------------------------------- properties
    @property
    def shape(self) -> tuple[int, int, int]:
        """Lattice shape `(nx, ny, nz)`."""
        return tuple(self.mask.shape)

    @property
    def n_cubes(self) -> int:
        """Number of occupied sites."""
        return int(np.asarray(self.mask).sum())

    @property
    def pitch_nm(self) -> Array:
        """Centre-to-centre distance of neighbouring cubes (nm)."""
        return self.edge_nm + self.gap_nm

    def replace(self, **changes) -> Assembly:
        """A copy with `edge_nm`, `gap_nm` and/or `ligand_nm` changed (topology kept)."""
        allowed = {"edge_nm", "gap_nm", "ligand_nm"}
        unknown = set(changes) - allowed
        if unknown:
            raise ParameterError(
                f"Assembly.replace accepts {sorted(allowed)}, got unknown {sorted(unknown)}"
            )
        for name, value in changes.items():  # tree_at skips __check_init__: check here
            _check_length(name, _scalar(value))
        where = lambda a: tuple(getattr(a, k) for k in changes)  # noqa: E731
        return eqx.tree_at(where, self, tuple(_scalar(v) for v in changes.values()))

    def __repr__(self) -> str:
        return (
            f"Assembly(kind={self.kind!r}, shape={self.shape}, cubes={self.n_cubes}, "
            f"edge_nm={float(self.edge_nm):g}, gap_nm={float(self.gap_nm):g}, "
            f"ligand_nm={float(self.ligand_nm):g})"
            if is_concrete(self.gap_nm)
            else f"Assembly(kind={self.kind!r}, shape={self.shape})"
        )


def _topology(occ: np.ndarray, connected: bool, on_substrate: bool):
    """Shared faces along each axis (`link_x`, `link_y`, `link_z`), open and shared faces per
    site, and the cubes above each site (what the incoming light passes through first)."""
    def links(axis: int) -> np.ndarray:
        a = np.moveaxis(occ, axis, 0)
        shared = a[1:] & a[:-1] if connected else np.zeros_like(a[1:])
        return np.moveaxis(shared, 0, axis)

    lx, ly, lz = links(0), links(1), links(2)
    shared = np.zeros(occ.shape, dtype=int)
    for axis, link in enumerate((lx, ly, lz)):
        pad_lo = [(0, 0)] * 3
        pad_hi = [(0, 0)] * 3
        pad_lo[axis] = (1, 0)
        pad_hi[axis] = (0, 1)
        shared += np.pad(link, pad_lo).astype(int) + np.pad(link, pad_hi).astype(int)
    closed = shared.copy()
    if on_substrate:
        closed[:, :, 0] += 1  # the face resting on the substrate
    open_faces = np.where(occ, 6 - closed, 0)
    shared = np.where(occ, shared, 0)
    above = np.cumsum(occ[:, :, ::-1], axis=2)[:, :, ::-1] - occ
    return lx, ly, lz, open_faces, shared, np.where(occ, above, 0)


def _edge_relative(occ: np.ndarray, edge_nm, edge_sd_nm: float, key) -> np.ndarray:
    """Each cube's edge over the mean: normal with sd `edge_sd_nm` (drawn with `key`), 1 at
    empty sites."""
    if edge_sd_nm > 0:
        z = np.asarray(jax.random.normal(key, occ.shape, dtype=float))
        # A cube below a third of the mean edge is not a cube; clip the rare far tail.
        rel = np.clip(1.0 + (edge_sd_nm / float(edge_nm)) * z, 1.0 / 3.0, None)
    else:
        rel = np.ones(occ.shape)
    return np.where(occ, rel, 1.0)
