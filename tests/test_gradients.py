"""`jax.grad` through the whole protocol against central finite differences (float64).

Finite differences: Richardson-extrapolated central differences with steps 1 % and 0.5 % of
the value, so truncation error is O(h^4) ~ 1e-8 relative and the solver's O(tol) noise is
divided by a step large enough not to dominate (plain 0.1 % central differences left 1e-4
relative noise on the weakest parameters)."""

import jax
import numpy as np
import pytest

import jaxnc
from jaxnc.parameters import PARAMETER_INFO

pytestmark = pytest.mark.integration  # whole solves: left out of `make test-quick`

# A leaky assembly with slow transport, ending in the dark at 310 K, so that every parameter
# (escape, diffusion, every activation energy) moves the final PLQY.
PROTOCOL = "light 1h; dark 100h at 310K"
SOLVE = dict(rtol=1e-9, atol=1e-12, saves_per_step=2)
REL_TOL = 1e-4


def _richardson_of(up, down, half_up, half_down, h):
    """Central differences at h and h/2 from f(x + h), f(x - h), f(x + h/2), f(x - h/2),
    Richardson-extrapolated: O(h^4)."""
    return (4 * (half_up - half_down) / h - (up - down) / (2 * h)) / 3


def _richardson(f, x, h):
    return _richardson_of(f(x + h), f(x - h), f(x + h / 2), f(x - h / 2), h)


@pytest.fixture(scope="module")
def setup():
    params = jaxnc.Parameters.hashimoto2024().replace(escape_fraction=1e-3,
                                                      diffusivity_nm2_s=0.1)
    asm = jaxnc.Assembly.supercrystal(3, 3, 2)
    return params, asm, jaxnc.Protocol.parse(PROTOCOL)


# Parameters with no effect on this protocol's final PLQY: the size exponent multiplies
# log(L/9.8) = 0 for monodisperse cubes.
NO_EFFECT = {"cross_section_size_exponent",
             # Cubes in solution only.
             "dispersion_free_ligand",
             # The coupling shifts emission and absorption edge alike (reabsorption does not
             # see it), and both layers of this lattice have the same neighbours, so the
             # same energy: no downhill transfer between them (tests/test_spectra.py checks
             # the coupling's derivatives).
             "coupling_mev", "coupling_decay_nm", "vacuum_decay_nm"}


GEOMETRY = ("gap_nm", "ligand_nm", "edge_nm")


def test_grad_wrt_every_parameter_and_the_geometry_matches_finite_differences(setup):
    params, asm, proto = setup
    geometry0 = np.array([3.0, 1.6, 9.8])

    def final_plqy(p, geometry):
        a = asm.replace(**dict(zip(GEOMETRY, geometry, strict=True)))
        return jaxnc.simulate(a, p, proto, model="mean_field", **SOLVE).plqy[-1]

    grads, grad_geometry = jax.grad(final_plqy, argnums=(0, 1))(params, geometry0)
    # Every finite-difference evaluation (4 per parameter or length) in one vmapped solve.
    names = [n for n in PARAMETER_INFO if n not in NO_EFFECT]
    steps = {n: 1e-2 * abs(float(getattr(params, n))) for n in names}
    # The absorption edge's onset is smoothed over 20 meV (~4 nm at 513 nm), and reabsorption
    # reads it at the emission energies, on that curved part: 1 % (5 nm) leaves 1.4e-4 of
    # Richardson truncation, 0.2 % (1 nm) 2e-7 (measured).
    steps["absorption_edge_nm"] = 2e-3 * float(params.absorption_edge_nm)
    shifts = (1.0, -1.0, 0.5, -0.5)
    points = [(params.replace(**{n: float(getattr(params, n)) + s * steps[n]}), geometry0)
              for n in names for s in shifts]
    points += [(params, geometry0 + s * 1e-2 * geometry0[i] * np.eye(3)[i])
               for i in range(3) for s in shifts]
    batch = jax.tree.map(lambda *leaves: jax.numpy.stack(leaves), *points)
    values = np.asarray(jax.jit(jax.vmap(final_plqy))(*batch)).reshape(-1, 4)

    for name in PARAMETER_INFO:
        g = float(getattr(grads, name))
        if name in NO_EFFECT:
            assert abs(g) < 1e-15, name  # zero up to round-off (shifts that cancel)
            continue
        x = float(getattr(params, name))
        fd = _richardson_of(*values[names.index(name)], steps[name])
        assert abs(fd) * abs(x) > 1e-9, f"{name} has no measurable effect; test is blind"
        assert g == pytest.approx(fd, rel=REL_TOL), name
    for i, name in enumerate(GEOMETRY):
        fd = _richardson_of(*values[len(names) + i], 1e-2 * geometry0[i])
        assert abs(fd) * geometry0[i] > 1e-9, name
        assert float(grad_geometry[i]) == pytest.approx(fd, rel=REL_TOL), name


@pytest.mark.parametrize(
    "solver, tolerances",
    # Slow (~35 s each with the exciton field's lattice solves in every evaluation). The
    # default run checks the geometry gradients through the mean-field model (the test
    # above, reverse mode) and the field solver's derivatives through whole protocols
    # (tests/test_split.py: forward mode against differences, reverse mode as its transpose).
    [pytest.param("kvaerno5", dict(rtol=1e-9, atol=1e-12), marks=pytest.mark.slow),
     # The field default (third order): 1e-7 keeps its own error well below REL_TOL.
     pytest.param("ros3", dict(rtol=1e-7, atol=1e-10), marks=pytest.mark.slow)],
)
def test_grad_wrt_geometry_matches_finite_differences_on_the_field_model(setup, solver,
                                                                         tolerances):
    params, asm, proto = setup

    def final_plqy(gap, ligand, edge):
        a = asm.replace(gap_nm=gap, ligand_nm=ligand, edge_nm=edge)
        return jaxnc.simulate(a, params, proto, model="field", solver=solver,
                              saves_per_step=2, **tolerances).plqy[-1]

    x0 = (3.0, 1.6, 9.8)
    grads = jax.grad(final_plqy, argnums=(0, 1, 2))(*x0)
    for i, name in enumerate(("gap_nm", "ligand_nm", "edge_nm")):
        def f(v, i=i):
            args = list(x0)
            args[i] = v
            return float(final_plqy(*args))

        fd = _richardson(f, x0[i], 1e-2 * x0[i])
        assert float(grads[i]) == pytest.approx(fd, rel=REL_TOL), name


@pytest.mark.slow  # 36 s. Reverse mode under vmap; forward mode under vmap (the path of the
# fitter and of design sweeps) is checked in the default run (test_split.py, test_design.py).
def test_grad_under_vmap_matches_per_point_grads(setup):
    params, asm, proto = setup

    def final_plqy(gap):
        return jaxnc.simulate(asm.replace(gap_nm=gap), params, proto, model="mean_field",
                              **SOLVE).plqy[-1]

    gaps = np.array([2.5, 3.0, 4.0])
    batched = jax.vmap(jax.grad(final_plqy))(gaps)
    single = [float(jax.grad(final_plqy)(g)) for g in gaps]
    np.testing.assert_allclose(batched, single, rtol=1e-8)
