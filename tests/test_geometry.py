import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxnc
from jaxnc import Assembly


@pytest.mark.parametrize("shape", [(8, 8, 4), (3, 5, 2), (4, 4, 1)])
def test_face_counts_of_a_full_box(shape):
    nx, ny, nz = shape
    asm = Assembly.supercrystal(nx, ny, nz)
    n = nx * ny * nz
    links = (nx - 1) * ny * nz + nx * (ny - 1) * nz + nx * ny * (nz - 1)
    assert float(asm.shared_faces.sum()) == 2 * links
    # Open: the film top and the four side walls; the bottom rests on the substrate.
    assert float(asm.open_faces.sum()) == nx * ny + 2 * (nx + ny) * nz
    assert float((asm.open_faces + asm.shared_faces).sum()) == 6 * n - nx * ny
    assert asm.n_cubes == n
    # Depth: cubes above, counted from the illuminated top layer.
    np.testing.assert_array_equal(np.asarray(asm.depth_cubes)[0, 0], np.arange(nz)[::-1])


def test_isolated_cubes_share_nothing():
    asm = Assembly.isolated(5)
    assert float(asm.shared_faces.sum()) == 0
    np.testing.assert_array_equal(np.asarray(asm.open_faces).ravel(), 6.0)
    assert asm.kind == "isolated"


def test_vacancies_open_the_faces_of_their_neighbours():
    asm = Assembly.supercrystal(6, 6, 3, vacancy_fraction=0.2, key=jax.random.PRNGKey(1))
    mask = np.asarray(asm.mask).astype(bool)
    assert 0 < (~mask).sum() < mask.size
    # Recount open faces by brute force over the six neighbours.
    expected = np.zeros(mask.shape)
    for idx in zip(*np.nonzero(mask), strict=True):
        for axis in range(3):
            for step in (-1, 1):
                j = list(idx)
                j[axis] += step
                if axis == 2 and j[2] < 0:
                    continue  # substrate
                inside = 0 <= j[axis] < mask.shape[axis]
                if not (inside and mask[tuple(j)]):
                    expected[idx] += 1
    np.testing.assert_array_equal(np.asarray(asm.open_faces), expected)
    # Same key, same assembly.
    again = Assembly.supercrystal(6, 6, 3, vacancy_fraction=0.2, key=jax.random.PRNGKey(1))
    np.testing.assert_array_equal(np.asarray(again.mask), np.asarray(asm.mask))


def test_polydispersity_matches_requested_spread():
    asm = Assembly.supercrystal(40, 40, 10, edge_sd_nm=1.1, key=jax.random.PRNGKey(0))
    edges = 9.8 * np.asarray(asm.edge_relative).ravel()
    n = edges.size
    # 16,000 draws: standard error of the mean 1.1/sqrt(n) ~ 0.009 nm; allow 5 sigma.
    assert abs(edges.mean() - 9.8) < 5 * 1.1 / np.sqrt(n)
    # Standard error of the sd ~ 1.1/sqrt(2n) ~ 0.006 nm; allow 5 sigma.
    assert abs(edges.std() - 1.1) < 5 * 1.1 / np.sqrt(2 * n)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(gap_nm=-1.0), "gap_nm"),
        (dict(edge_nm=0.0), "edge_nm"),
        (dict(ligand_nm=float("nan")), "ligand_nm"),
        (dict(vacancy_fraction=0.3), "key"),
        (dict(edge_sd_nm=1.1), "key"),
    ],
)
def test_bad_geometry_is_named(kwargs, word):
    with pytest.raises(jaxnc.ParameterError, match=word):
        Assembly.supercrystal(2, 2, 2, **kwargs)
    lengths = {k: v for k, v in kwargs.items() if k.endswith("_nm") and k != "edge_sd_nm"}
    if lengths:  # replace checks what the constructors check
        with pytest.raises(jaxnc.ParameterError, match=word):
            Assembly.supercrystal(2, 2, 2).replace(**lengths)


def test_lengths_stay_traced_values():
    asm = Assembly.supercrystal(2, 2, 2)

    def f(gap):
        return asm.replace(gap_nm=gap).pitch_nm ** 2

    assert float(jax.grad(f)(jnp.asarray(3.0))) == pytest.approx(2 * 12.8)
