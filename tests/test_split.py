"""The matrix-free Rosenbrock-W solvers (`ROS34PW2AF`, the field model's default, and
`ROS2AF`) against the dense-Jacobian Kvaerno5 path: agreement, convergence with tolerance,
ligand conservation, bounds, gradients.

Every test integrates one lattice through one protocol with one number of saves, so the
primal programs (one per solver and model) are compiled once and shared; tolerances are
arrays and do not recompile."""

import diffrax
import jax
import numpy as np
import pytest

import jaxnc
from jaxnc.models import DenseSystem, FieldModel, LocalTransportJacobian, get_model
from jaxnc.physics.adsorption import ChargedSiteAdsorption
from jaxnc.solve import ROS2AF, ROS34PW2, ROS34PW2AF, ModelTerm, linearise

pytestmark = pytest.mark.integration  # whole solves: left out of `make test-quick`

PROTOCOL = "light 3h; dark 300h"
SAVES = 16
SPLIT = ROS34PW2AF()
SOLVERS = [SPLIT, ROS2AF()]
IDS = ["ros3", "ros2"]


@pytest.fixture(scope="module")
def vacancy_lattice():
    return jaxnc.Assembly.supercrystal(3, 3, 2, vacancy_fraction=0.2, edge_sd_nm=1.0,
                                       key=jax.random.PRNGKey(1))


@pytest.fixture(scope="module")
def tight_reference(params, vacancy_lattice):
    """The default dense-Jacobian path (Kvaerno5 + Newton) at tight tolerances."""
    return _run(vacancy_lattice, params, "kvaerno5", rtol=1e-9, atol=1e-12)


def _run(asm, params, solver, model="field", **kw):
    return jaxnc.simulate(asm, params, PROTOCOL, model=model, saves_per_step=SAVES,
                          solver=solver, **kw)


def _max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a.plqy) - np.asarray(b.plqy))))


@pytest.mark.parametrize("solver", SOLVERS, ids=IDS)
def test_split_agrees_with_the_dense_path(params, vacancy_lattice, tight_reference, solver):
    default = _run(vacancy_lattice, params, "kvaerno5")
    split = _run(vacancy_lattice, params, solver, rtol=1e-5, atol=1e-8)
    # The bar: PLQY curves within 1e-4 absolute of the default path.
    assert _max_diff(split, default) < 1e-4
    assert _max_diff(split, tight_reference) < 1e-4


@pytest.mark.parametrize("solver", SOLVERS, ids=IDS)
def test_split_error_falls_with_the_tolerance(params, vacancy_lattice, tight_reference, solver):
    errors = []
    for rtol in (1e-4, 1e-6):
        sol = _run(vacancy_lattice, params, solver, rtol=rtol, atol=rtol * 1e-3)
        errors.append(_max_diff(sol, tight_reference))
    # The error is controlled: 1-3 rtol in PLQY here (seen, ros3: 5.5e-5 at rtol 1e-4, 1.0e-6
    # at 1e-6; ros2: 3.2e-4, 3.5e-6), so 100x tighter tolerance must give well over 10x
    # smaller error.
    assert errors[1] < errors[0] / 10
    assert errors[1] < 1e-5


@pytest.mark.parametrize("solver", SOLVERS, ids=IDS)
def test_split_conserves_ligand_and_bounds(params, vacancy_lattice, solver):
    asm = vacancy_lattice  # vacancies and an edge-length spread: uneven faces and volumes
    p = params.replace(escape_fraction=3e-6)  # leaky: all three pools sizeable (seen at the
    # end: 13 % lost, 78 % free, 9 % adsorbed)
    sol = _run(asm, p, solver, rtol=1e-5, atol=1e-8)
    total = np.asarray(sol.ligand_total)
    # Both factors of W keep the weighted ligand total (the local one counts the escaped
    # ligand; the transport solve is corrected for its CG residual): round-off only.
    assert np.max(np.abs(total - total[0])) <= 1e-12 * total[0]
    assert float(sol.ligand_lost[-1]) > 0.05 * total[0]
    cov = np.asarray(sol.coverage)[:, np.asarray(asm.mask) > 0]
    assert cov.min() >= -1e-9 and cov.max() <= 1 + 1e-9


def test_hermite_output_integrates_the_factorised_w(params, vacancy_lattice, tight_reference):
    """ROS34PW2 (cubic Hermite dense output) on the field model takes the model's factorised
    W like ROS34PW2AF, with saves interpolated rather than stepped to: the same accuracy
    against the tight dense reference (the bar of the tests above), and its ligand conserved
    to round-off (the dense output's slopes carry the escaped ligand)."""
    sol = _run(vacancy_lattice, params, ROS34PW2(), rtol=1e-5, atol=1e-8)
    assert _max_diff(sol, tight_reference) < 1e-4
    total = np.asarray(sol.ligand_total)
    assert np.max(np.abs(total - total[0])) <= 1e-12 * total[0]


class _FastDesorption(ChargedSiteAdsorption):
    """Twice the desorption flux: a model whose local rates differ from the default's."""

    def rates_per_h(self, coverage, charge, free_ligand, k_ads, k_des, params):
        return super().rates_per_h(coverage, charge, free_ligand, k_ads, 2.0 * k_des, params)


def test_the_solver_integrates_the_model_of_its_term(params, vacancy_lattice):
    """One solver instance, two models with different local rates: each solve follows the
    model it was given (the solver holds none of its own); a term without a model gets the
    dense Jacobian, and the factorised W refuses it rather than integrate another model."""
    fast = FieldModel(adsorption=_FastDesorption())
    default = _run(vacancy_lattice, params, SPLIT)
    changed = _run(vacancy_lattice, params, SPLIT, model=fast)
    # The same physics through the default model with k_desorption doubled (k_des enters the
    # desorption flux linearly), on the dense path that the tests above compiled already.
    doubled = params.replace(k_desorption_per_h=2 * float(params.k_desorption_per_h))
    dense = _run(vacancy_lattice, doubled, "kvaerno5")
    assert _max_diff(changed, default) > 1e-2
    assert _max_diff(changed, dense) < 1e-4

    model = get_model("field")
    cells = model.cells(vacancy_lattice, params)
    co = model.coefficients(cells, vacancy_lattice, params, 468.0, 10.0, 298.15)
    y0 = model.initial_state(cells, params)
    plain = diffrax.ODETerm(model.vector_field)
    systems = []

    def probe(y):  # traced only (eval_shape): which linear system each term gets
        system = linearise(plain, 0.0, 0.1, y, co, 0.43)
        systems.append(type(system))
        return system.rates(None, 0.0)

    jax.eval_shape(probe, y0)
    assert systems == [DenseSystem]
    with pytest.raises(TypeError, match="ModelTerm"):
        LocalTransportJacobian().linearise(plain, 0.0, 0.1, y0, co, 0.43)


def _final_plqy(lattice, params, adjoint=None):
    """Final PLQY through ROS34PW2AF at tight tolerances, as a function of k_desorption."""
    def final_plqy(k):
        return _run(lattice, params.replace(k_desorption_per_h=k), SPLIT, rtol=1e-8,
                    atol=1e-11, adjoint=adjoint).plqy[-1]

    return final_plqy


KDS = np.array([1.0, 3.0])  # x the default k_desorption: the values the gradient tests use
FD_SHIFTS = np.array([1e-3, -1e-3, 5e-4, -5e-4])


@pytest.fixture(scope="module")
def batched_jvp(params, vacancy_lattice):
    """One vmapped forward-mode solve (`diffrax.ForwardMode`) at KDS x the default and at the
    four finite-difference points around each: `(ks, derivatives at ks, fd)`, `fd` the
    central differences at 0.1 % and 0.05 %, Richardson-extrapolated (O(h^4)), from the
    primal outputs of the same call (the step-size controller sees only the primal, so they
    are the primal solve's). One compiled program serves the derivative and its check."""
    final = _final_plqy(vacancy_lattice, params, diffrax.ForwardMode())
    ks = KDS * float(params.k_desorption_per_h)
    points = np.concatenate([ks, (ks[:, None] * (1 + FD_SHIFTS)).ravel()])
    primal, tangent = jax.jit(jax.vmap(lambda k: jax.jvp(final, (k,), (1.0,))))(points)
    values = np.asarray(primal)[len(ks):].reshape(len(ks), 4)
    fd = []
    for k, (up, down, half_up, half_down) in zip(ks, values, strict=True):
        d1, d2 = (up - down) / (2e-3 * k), (half_up - half_down) / (1e-3 * k)
        fd.append((4 * d2 - d1) / 3)
    return ks, np.asarray(tangent)[:len(ks)], np.asarray(fd)


@pytest.fixture(scope="module")
def fd_k_des(batched_jvp):
    """d(final PLQY)/d(k_desorption) by differences, at the values in KDS."""
    ks, _, fd = batched_jvp
    known = dict(zip(ks.tolist(), fd.tolist(), strict=True))
    return lambda k: known[float(k)]


# Differences of an adaptive solve jump when the accepted steps change; the derivative of the
# discrete solve differs from the exact one by O(tolerance): at rtol 1e-6 they were 5e-6
# apart, at 1e-8 4e-8 apart (reverse mode, seen).
FD_REL = 1e-6


# Slow (30 s): whole protocols at rtol 1e-8. In the default run, forward mode is checked
# against the same finite differences (the batched test below) and reverse mode by the
# transpose test at the end of this file.
@pytest.mark.slow
@pytest.mark.parametrize("adjoint", [None, diffrax.ForwardMode()], ids=["reverse", "forward"])
def test_split_gradient_matches_finite_differences(params, vacancy_lattice, fd_k_des, adjoint):
    kd = float(params.k_desorption_per_h)
    final_plqy = _final_plqy(vacancy_lattice, params, adjoint)
    grad = float(jax.jacfwd(final_plqy)(kd) if adjoint is not None else jax.grad(final_plqy)(kd))
    assert grad == pytest.approx(fd_k_des(kd), rel=FD_REL)


def test_batched_forward_mode_derivatives_match_finite_differences(batched_jvp):
    """The fitter's path: `vmap` over samples of a forward-mode derivative. Batch members that
    finish early are stepped with h = 0 by diffrax; the solver must stay finite and exact
    there. The members' rates differ 3x (and 0.1 % around each), so they take different
    numbers of steps."""
    ks, derivatives, fd = batched_jvp
    assert np.all(np.isfinite(derivatives))
    for k, derivative, expected in zip(ks, derivatives, fd, strict=True):
        assert derivative == pytest.approx(expected, rel=FD_REL), k


def test_reverse_mode_through_a_step_is_the_transpose_of_forward_mode(params, vacancy_lattice):
    """Reverse mode in the default run (the whole-protocol reverse-mode check against finite
    differences above is slow): on one ROS34PW2AF step under light from a state with every
    pool filled, `<u, J v> = <J^T u, v>` for random `u` and `v`. Forward-mode derivatives are
    checked against finite differences through whole protocols (the batched test above), and
    reverse mode is their transpose, so this catches what is reverse-mode's own: the
    transposes of the factorised W and of the transport CG solve. Composing steps backwards
    is diffrax's checkpointed adjoint, tested through Kvaerno5 in tests/test_gradients.py."""
    model = get_model("field")
    cells = model.cells(vacancy_lattice, params)
    mid = _run(vacancy_lattice, params, SPLIT)
    y0 = mid.state_at(SAVES // 2)  # halfway through the light step: charge and ligand moving
    term = ModelTerm(model)

    def step(y, kd):
        p = params.replace(k_desorption_per_h=kd)
        co = model.coefficients(cells, vacancy_lattice, p, 468.0, 10.0, 298.15)
        y1, err, _, _, _ = SPLIT.step(term, 0.0, 0.05, y, co, None, False)
        return y1, err

    kd = jax.numpy.asarray(float(params.k_desorption_per_h))
    keys = iter(jax.random.split(jax.random.PRNGKey(0), 64))

    def like(tree):  # a random tree of the shape of `tree` (seeded)
        return jax.tree.map(lambda a: jax.random.normal(next(keys), jax.numpy.shape(a)), tree)

    v = (like(y0), like(kd))
    jvp = jax.jit(lambda y, k, t: jax.jvp(step, (y, k), t)[1])
    out = jvp(y0, kd, v)
    u = like(out)
    vjp = jax.jit(lambda y, k, c: jax.vjp(step, y, k)[1](c))
    back = vjp(y0, kd, u)

    def dot(a, b):
        return sum(float(jax.numpy.vdot(x, y)) for x, y in
                   zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True))

    forward, reverse = dot(u, out), dot(back, v)
    # Both sides solve the same linear systems (the CG to rtol 1e-10 of its right-hand side),
    # forwards or transposed: agreement to ~1e-9 of the products' magnitude.
    scale = np.sqrt(dot(u, u) * dot(out, out))
    assert abs(forward - reverse) <= 1e-8 * scale, (forward, reverse, scale)
