"""Excitons (jaxnc.physics.excitons): Poisson trap statistics against their closed forms, and
the steady-state exciton field on the lattice against exact discrete solutions."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, stats

import jaxnc
from jaxnc.models import get_model
from jaxnc.physics import excitons as ex

pytestmark = pytest.mark.integration  # whole solves: left out of `make test-quick`

K_R, K_0, K_Q = 0.030, 0.014, 0.08  # 1/ns: the default k_r and k_nr, a trap of 12.5 ns

# Compiled once per shape (run eagerly, every CG iteration would be dispatched op by op).
_exciton_optics = eqx.filter_jit(ex.exciton_optics)
_pl_decay = eqx.filter_jit(ex.pl_decay)
_steady = eqx.filter_jit(ex.steady_state_excitons)


@pytest.mark.parametrize("mean", [0.0, 0.3, 2.5, 12.0])
def test_poisson_trap_counts_against_the_closed_forms(mean):
    n_max = ex.trap_count_bound(mean)
    p = np.asarray(ex.poisson_probabilities(mean, n_max))
    np.testing.assert_allclose(p, stats.poisson.pmf(np.arange(n_max + 1), mean), rtol=1e-12,
                               atol=1e-300)
    assert p.sum() == pytest.approx(1.0, abs=1e-15)
    t = np.linspace(0.0, 200.0, 41)
    rates = K_R + K_0 + np.arange(n_max + 1) * K_Q
    mixture = (p[None, :] * np.exp(-rates[None, :] * t[:, None])).sum(axis=1)
    np.testing.assert_allclose(ex.pl_decay_poisson(t, mean, K_R, K_0, K_Q), mixture,
                               rtol=1e-12, atol=1e-300)

    # PLQY = k_r times the decay's integral; average lifetime = int t I / int I.
    def decay(s):
        return float(ex.pl_decay_poisson(s, mean, K_R, K_0, K_Q))

    area = integrate.quad(decay, 0, np.inf, epsabs=0, epsrel=1e-12)[0]
    first = integrate.quad(lambda s: s * decay(s), 0, np.inf, epsabs=0, epsrel=1e-12)[0]
    assert float(ex.plqy_poisson(mean, K_R, K_0, K_Q, n_max)) == pytest.approx(K_R * area,
                                                                              rel=1e-9)
    assert float(ex.average_lifetime_poisson_ns(mean, K_R, K_0, K_Q, n_max)) == pytest.approx(
        first / area, rel=1e-9)


def test_forster_rate_falls_as_the_sixth_power_and_vanishes_without_a_radius():
    assert float(ex.forster_rate_per_ns(12.8, 0.0, 0.05)) == 0.0
    ratio = ex.forster_rate_per_ns(2 * 12.8, 8.0, 0.05) / ex.forster_rate_per_ns(12.8, 8.0, 0.05)
    assert float(ratio) == pytest.approx(2.0**-6, rel=1e-14)


def _chain(n_cubes):
    asm = jaxnc.Assembly.supercrystal(n_cubes, 1, 1)
    cells = get_model("field").cells(asm, jaxnc.Parameters.hashimoto2024())
    return cells


def test_exciton_diffusion_on_a_chain_with_one_quenching_end():
    """Uniform generation G and decay k = 1/tau, a perfect quencher at cube 0, a reflecting
    end: the discrete solution is G tau (1 - cosh(mu (i - N + 1/2)) / cosh(mu (N - 1/2))) with
    cosh(mu) = 1 + k / (2 k_ET), whose decay length 1/mu tends to sqrt(D tau) / a =
    sqrt(k_ET tau) (D = k_ET a^2) when it spans many cubes."""
    n, k, k_et, g = 64, 0.05, 5.0, 1.0
    cells = _chain(n)
    decay = jnp.full(cells.weight.shape, k).at[0, 0, 0].set(1e12)
    dens, ok = _steady(jnp.full(cells.weight.shape, g), decay, k_et, cells.links,
                       cells.occupied)
    assert bool(ok)
    i = np.arange(1, n)
    mu = np.arccosh(1.0 + k / (2.0 * k_et))
    exact = g / k * (1.0 - np.cosh(mu * (i - n + 0.5)) / np.cosh(mu * (n - 0.5)))
    # CG to rtol 1e-10; the quencher's finite rate leaves n_0 ~ 1e-11 of the plateau.
    np.testing.assert_allclose(np.asarray(dens).ravel()[1:], exact, rtol=1e-8)
    assert 1.0 / mu == pytest.approx(np.sqrt(k_et / k), rel=1e-3)  # 10 cubes: continuum


def test_the_field_solve_equals_a_dense_solve_with_vacancies_and_uneven_decay():
    asm = jaxnc.Assembly.supercrystal(5, 4, 3, vacancy_fraction=0.2, key=jax.random.key(2))
    cells = get_model("field").cells(asm, jaxnc.Parameters.hashimoto2024())
    rng = np.random.default_rng(0)
    decay = jnp.asarray(0.04 + 0.3 * rng.random(cells.weight.shape))
    gen = jnp.asarray(rng.random(cells.weight.shape))
    k_et = 0.7
    dens, ok = _steady(gen, decay, k_et, cells.links, cells.occupied)
    assert bool(ok)
    occ = np.asarray(cells.occupied).ravel()
    idx = np.flatnonzero(occ)
    m = np.diag(np.asarray(decay).ravel())
    shape = cells.weight.shape
    for axis, link in enumerate(cells.links):  # the graph Laplacian, face by face
        for a in np.ndindex(*np.asarray(link).shape):
            if np.asarray(link)[a] > 0:
                b = list(a)
                b[axis] += 1
                ia, ib = np.ravel_multi_index(a, shape), np.ravel_multi_index(tuple(b), shape)
                w = k_et * float(np.asarray(link)[a])
                m[ia, ia] += w
                m[ib, ib] += w
                m[ia, ib] -= w
                m[ib, ia] -= w
    dense = np.linalg.solve(m[np.ix_(idx, idx)], np.asarray(gen).ravel()[idx])
    np.testing.assert_allclose(np.asarray(dens).ravel()[idx], dense, rtol=1e-8)
    assert np.all(np.asarray(dens).ravel()[~occ] == 0)


def test_the_exciton_field_is_differentiable():
    cells = _chain(16)
    gen = jnp.ones(cells.weight.shape)

    def total(k_et, quench):
        decay = jnp.full(cells.weight.shape, 0.05).at[0, 0, 0].set(quench)
        return jnp.sum(ex.steady_state_excitons(gen, decay, k_et, cells.links,
                                                cells.occupied)[0])

    grad = jax.jit(jax.grad(total, argnums=(0, 1)))(2.0, 5.0)
    total = jax.jit(total)
    h = 1e-5
    fd = ((total(2.0 + h, 5.0) - total(2.0 - h, 5.0)) / (2 * h),
          (total(2.0, 5.0 + h) - total(2.0, 5.0 - h)) / (2 * h))
    # Central differences: truncation ~h^2 and CG noise ~1e-10 / h, both below 1e-5.
    for g, f in zip(grad, fd, strict=True):
        assert float(g) == pytest.approx(float(f), rel=1e-5)
    assert float(grad[0]) < 0 and float(grad[1]) < 0  # transfer to the quencher, more loss


def _lattice(shape):
    asm = jaxnc.Assembly.supercrystal(*shape)
    return get_model("field").cells(asm, jaxnc.Parameters.hashimoto2024())


def test_optics_without_transfer_are_the_isolated_closed_forms():
    cells = _lattice((4, 4, 1))  # the shape of the next test: one compiled decay
    mean = 1.7
    n_max = ex.trap_count_bound(mean)
    optics = _exciton_optics(jnp.ones(cells.weight.shape), jnp.full(cells.weight.shape, mean),
                               K_R, K_0, K_Q, 0.0, cells.links, cells.occupied, n_max)
    assert bool(optics.ok)
    assert float(optics.plqy) == pytest.approx(float(ex.plqy_poisson(mean, K_R, K_0, K_Q,
                                                                     n_max)), rel=1e-10)
    assert float(optics.lifetime_ns) == pytest.approx(
        float(ex.average_lifetime_poisson_ns(mean, K_R, K_0, K_Q, n_max)), rel=1e-10)
    t = jnp.linspace(0.0, 150.0, 31)
    decay = _pl_decay(t, jnp.ones(cells.weight.shape), jnp.full(cells.weight.shape, mean),
                        K_R, K_0, K_Q, 0.0, cells.links, cells.occupied, n_max)
    np.testing.assert_allclose(decay, ex.pl_decay_poisson(t, mean, K_R, K_0, K_Q), atol=1e-6)


def test_transfer_quenches_assemblies_more_than_isolated_cubes():
    """Same trap statistics everywhere: an exciton that lingers in a trap-free cube hops on
    and may meet a trapped one, so PLQY falls with the number of neighbours (isolated >
    monolayer > 3D), and the decay's moments equal the two-solve formulas."""
    mean, k_et = 1.2, 0.2
    n_max = ex.trap_count_bound(mean)
    plqy = {}
    for name, shape in (("isolated", (1, 1, 1)), ("monolayer", (4, 4, 1)),
                        ("3D", (4, 4, 3))):
        cells = _lattice(shape)
        ones = jnp.ones(cells.weight.shape)
        optics = _exciton_optics(ones, mean * ones, K_R, K_0, K_Q, k_et, cells.links,
                                   cells.occupied, n_max)
        plqy[name] = float(optics.plqy)
        if name == "monolayer":
            t = jnp.linspace(0.0, 1000.0, 2001)  # out to ~e^-40 of the slowest class
            decay = np.asarray(_pl_decay(t, ones, mean * ones, K_R, K_0, K_Q, k_et,
                                           cells.links, cells.occupied, n_max))
            area = integrate.simpson(decay, x=np.asarray(t))
            first = integrate.simpson(np.asarray(t) * decay, x=np.asarray(t))
            # Simpson on 0.5 ns steps against decay times >= 5 ns: error ~1e-7 relative.
            assert K_R * area == pytest.approx(plqy[name], rel=1e-6)
            assert first / area == pytest.approx(float(optics.lifetime_ns), rel=1e-6)
    assert plqy["isolated"] > plqy["monolayer"] > plqy["3D"]
    assert plqy["isolated"] == pytest.approx(float(ex.plqy_poisson(mean, K_R, K_0, K_Q, n_max)),
                                             rel=1e-10)


# --- the exciton optics inside the models (FieldModel / MeanFieldModel(optics=...)) --------

@eqx.filter_jit
def _observed(model, asm, params):
    cells = model.cells(asm, params)
    obs = model.observables(model.initial_state(cells, params), cells,
                            model.probe_weight(cells, asm, params), params)
    return obs["plqy"], obs["lifetime_ns"]


def _start(model, asm, params):
    plqy, lifetime = _observed(model, asm, params)
    return float(plqy), float(lifetime)


def test_exciton_optics_order_the_preparations_by_their_neighbours():
    from jaxnc.models import FieldModel, MeanFieldModel
    from jaxnc.physics import ExcitonFieldOptics

    # Transfer alone (the films' reabsorption, which also lowers their PLQY, switched off).
    params = jaxnc.Parameters.hashimoto2024().replace(reabsorption_path_factor=0.0)
    optics = ExcitonFieldOptics()
    shapes = {"isolated": jaxnc.Assembly.isolated(4), "2D": jaxnc.Assembly.monolayer(6, 6),
              "3D": jaxnc.Assembly.supercrystal(6, 6, 3)}
    mean = float(params.traps_per_cube * (1 - params.coverage_initial))
    closed = float(ex.plqy_poisson(mean, params.k_radiative_per_ns,
                                   params.k_nonradiative_per_ns,
                                   params.k_trap_nonradiative_per_ns / params.traps_per_cube,
                                   optics.n_max))
    plqy = {k: _start(FieldModel(optics=optics), a, params)[0] for k, a in shapes.items()}
    assert plqy["isolated"] == pytest.approx(closed, rel=1e-12)
    assert plqy["isolated"] > plqy["2D"] > plqy["3D"]  # one starting state, transfer's doing
    for kind, asm in shapes.items():
        # The mean-field reduction uses each layer's mean neighbour count: its error is the
        # edge cubes' share (~1/3 here) times their difference, growing with the transfer
        # (measured 9.6e-4 relative for the 2D array, 7.6e-4 for 3D, at the default set).
        mf = _start(MeanFieldModel(optics=optics), asm, params)
        assert mf[0] == pytest.approx(plqy[kind], rel=2e-3), kind
    off = params.replace(forster_radius_nm=0.0)
    for asm in shapes.values():
        assert _start(FieldModel(optics=optics), asm, off)[0] == pytest.approx(closed,
                                                                              rel=1e-12)


def test_exciton_optics_are_differentiable_in_their_new_parameters():
    """The default-run stand-in of the protocol gradient test below: d PLQY / d parameter of
    the start state (the exciton solves only, no time integration) against differences."""
    from jaxnc.models import FieldModel
    from jaxnc.physics import ExcitonFieldOptics

    model, asm = FieldModel(optics=ExcitonFieldOptics()), jaxnc.Assembly.supercrystal(3, 3, 2)
    params = jaxnc.Parameters.hashimoto2024()
    grads = jax.grad(lambda p: _observed(model, asm, p)[0])(params)
    for name in ("traps_per_cube", "forster_radius_nm", "k_trap_nonradiative_per_ns"):
        x = float(getattr(params, name))
        h = 1e-4 * x
        fd = (_start(model, asm, params.replace(**{name: x + h}))[0]
              - _start(model, asm, params.replace(**{name: x - h}))[0]) / (2 * h)
        assert abs(fd) * x > 1e-4, name
        # CG to rtol 1e-10 over steps of 1e-4: noise ~1e-6 relative; truncation ~1e-8.
        assert float(getattr(grads, name)) == pytest.approx(fd, rel=1e-5), name


@pytest.mark.slow  # ~35 s: reverse mode through a protocol with a CG in every evaluation
def test_exciton_optics_through_a_light_dark_protocol_with_gradients():
    from jaxnc.models import MeanFieldModel
    from jaxnc.physics import ExcitonFieldOptics

    model = MeanFieldModel(optics=ExcitonFieldOptics())
    asm = jaxnc.Assembly.supercrystal(4, 4, 3)
    params = jaxnc.Parameters.hashimoto2024()

    def final(p):
        return jaxnc.simulate(asm, p, "light 2h; dark 50h", model=model, saves_per_step=3,
                              rtol=1e-9, atol=1e-12).plqy

    plqy = np.asarray(final(params))
    assert plqy[2] > plqy[0] + 0.2  # activated under light, as with the quasi-static optics
    grads = jax.grad(lambda p: final(p)[2])(params)
    for name in ("traps_per_cube", "forster_radius_nm"):
        x = float(getattr(params, name))
        h = 1e-3 * x
        fd = (float(final(params.replace(**{name: x + h}))[2])
              - float(final(params.replace(**{name: x - h}))[2])) / (2 * h)
        assert abs(fd) * x > 1e-6, name  # it moves the PLQY: the check is not blind
        # Central differences at 0.1 %: truncation ~1e-6, solver noise ~1e-9 / 1e-3.
        assert float(getattr(grads, name)) == pytest.approx(fd, rel=1e-4), name


def test_one_matrix_free_step_with_non_local_optics_is_third_order():
    """The default-run stand-in of the whole-protocol comparison below: one ROS34PW2AF step
    (carriers held in W, recomputed on the lattice in every stage) against one step of the
    dense ROS34PW2 from the same state, on steps short against trap charging (~0.04 h here).
    Both are third order, so their difference relative to the step's change shrinks ~h^3
    (measured 2.2e-6 at 4e-3 h, 3.1e-7 at 2e-3 h, 4.0e-8 at 1e-3 h: W holds the carriers, so
    it misses their dependence on the trapped charge, which fills traps, and on the coverage,
    which adsorption moves within the step); a wrong right-hand side (quasi-static carriers)
    leaves 24 % whatever the step."""
    from jaxnc.models import LocalTransportJacobian, MeanFieldModel, State
    from jaxnc.physics import ExcitonFieldOptics
    from jaxnc.solve import ROS34PW2, ROS34PW2AF, ModelTerm

    # The same model twice: with the factorised W of a lattice, and with its own dense one.
    model = MeanFieldModel(optics=ExcitonFieldOptics())
    factorised = MeanFieldModel(optics=ExcitonFieldOptics(), jacobian=LocalTransportJacobian())
    asm = jaxnc.Assembly.supercrystal(4, 4, 3)
    params = jaxnc.Parameters.hashimoto2024().replace(forster_radius_nm=14.0)
    cells = model.cells(asm, params)
    co = model.coefficients(cells, asm, params, 468.0, 10.0, 298.15)
    y0 = model.initial_state(cells, params)
    y0 = State(y0.coverage, y0.charge + 0.05, y0.free_ligand, y0.lost)  # a state mid-charging

    @eqx.filter_jit
    def difference(h):
        af = ROS34PW2AF().step(ModelTerm(factorised), 0.0, h, y0, co, None, False)[0]
        dense = ROS34PW2().step(ModelTerm(model), 0.0, h, y0, co, None, False)[0]
        return jnp.max(jnp.abs(af.charge - dense.charge) / jnp.abs(dense.charge - y0.charge))

    d1, d2 = float(difference(jnp.asarray(4e-3))), float(difference(jnp.asarray(2e-3)))
    assert d1 < 1e-5 and d1 / d2 > 5, (d1, d2)


@pytest.mark.slow  # ~25 s: a CG solve in every evaluation of the field model's vector field
def test_the_matrix_free_solver_integrates_non_local_optics():
    """ROS34PW2AF holds the exciton field's carriers in W and recomputes them on the whole
    lattice in every evaluation: it must agree with Kvaerno5 on the dense Jacobian."""
    from jaxnc.models import FieldModel
    from jaxnc.physics import ExcitonFieldOptics

    model = FieldModel(optics=ExcitonFieldOptics())
    asm = jaxnc.Assembly.supercrystal(3, 3, 2)
    params = jaxnc.Parameters.hashimoto2024().replace(forster_radius_nm=14.0)
    runs = [jaxnc.simulate(asm, params, "light 2h; dark 20h", model=model, saves_per_step=3,
                           solver=s, rtol=r, atol=r * 1e-3)
            for s, r in (("ros3", 1e-7), ("kvaerno5", 1e-9))]
    # ros3's PLQY error is ~rtol (docs/model.md); the reference is far tighter.
    np.testing.assert_allclose(runs[0].plqy, runs[1].plqy, atol=2e-6)
    np.testing.assert_allclose(runs[0].charge, runs[1].charge, atol=1e-5)


def test_solution_pl_decay_of_isolated_cubes_is_the_poisson_closed_form():
    from jaxnc.models import MeanFieldModel
    from jaxnc.physics import ExcitonFieldOptics
    from jaxnc.solve import Solution

    params = jaxnc.Parameters.hashimoto2024()
    # Two saved states of isolated cubes (a solve would only add a compilation here).
    coverage = jnp.array([[0.09], [0.4]])
    zeros, one = jnp.zeros(2), jnp.zeros(2, dtype=int)
    sol = Solution(time_h=jnp.array([0.0, 1.0]), plqy=zeros, lifetime_ns=zeros,
                   ligand_adsorbed=zeros, ligand_free=zeros, ligand_lost=zeros,
                   coverage=coverage, charge=0 * coverage, free_ligand=0 * coverage,
                   damage=0 * coverage, step_index=one, step_ok=jnp.ones(1, bool),
                   solver_steps=one[:1],
                   model="mean_field", kinds=("light",),
                   source=(MeanFieldModel(optics=ExcitonFieldOptics()),
                           jaxnc.Assembly.isolated(4), params))
    t = jnp.linspace(0.0, 200.0, 21)
    decay = np.asarray(sol.pl_decay(t))
    assert decay.shape == (2, 21)
    for i, coverage in enumerate(np.asarray(sol.coverage)[:, 0]):
        mean = float(params.traps_per_cube) * (1 - coverage)
        k_q = float(params.k_trap_nonradiative_per_ns / params.traps_per_cube)
        closed = ex.pl_decay_poisson(t, mean, float(params.k_radiative_per_ns),
                                     float(params.k_nonradiative_per_ns), k_q)
        np.testing.assert_allclose(decay[i], closed, atol=1e-6)  # Tsit5 at rtol 1e-10


def test_quasi_static_decay_has_the_reported_average_lifetime():
    from jaxnc.physics import QuasiStaticOptics

    params = jaxnc.Parameters.hashimoto2024()
    cells = _lattice((3, 3, 2))
    coverage = jnp.linspace(0.05, 0.9, 18).reshape(cells.weight.shape)
    probe = jnp.linspace(1.0, 2.0, 18).reshape(cells.weight.shape)
    optics = QuasiStaticOptics()
    charge = jnp.linspace(0.0, 1.0, 18).reshape(cells.weight.shape)
    _, lifetime = optics.observe(coverage, charge, cells, probe, params)
    t = np.linspace(0.0, 800.0, 8001)
    decay = np.asarray(optics.pl_decay(t, coverage, charge, cells, probe, params))
    assert decay[0] == pytest.approx(1.0, rel=1e-12)
    # int t I / int I by Simpson on 0.1 ns steps (decay times >= 5 ns): error ~1e-9.
    ratio = integrate.simpson(t * decay, x=t) / integrate.simpson(decay, x=t)
    assert ratio == pytest.approx(float(lifetime), rel=1e-7)


def test_more_traps_than_the_optics_sum_over_is_refused():
    from jaxnc.physics import ExcitonFieldOptics

    params = jaxnc.Parameters.hashimoto2024().replace(traps_per_cube=20.0)
    with pytest.raises(jaxnc.ParameterError, match="traps_per_cube = 20.*n_max=81"):
        jaxnc.simulate(jaxnc.Assembly.isolated(2), params, "dark 1h", model="mean_field")
    ExcitonFieldOptics(n_max=81).check(params)  # enough classes: accepted


def test_default_start_state_matches_the_paper_preparations():
    """Issue 12's bar, from `Parameters.hashimoto2024()` with no overrides (field model, the
    paper's preparations at the default sizes): isolated 19.4 +- 1.5 %, monolayer 18.1 +- 3 %,
    3D 16.0 +- 1.5 %, the 3D dark lifetime 10.5 ns +- 15 %; without transfer and reabsorption
    the three agree within 0.5 points (the ordering is theirs). These are calibration targets (one
    start state fitted to all four numbers): the test guards the calibration, not the physics."""
    from jaxnc.models import FieldModel

    params = jaxnc.Parameters.hashimoto2024()
    model = FieldModel()
    preparations = {"isolated": (jaxnc.Assembly.isolated(), 0.194, 0.015),
                    "monolayer": (jaxnc.Assembly.monolayer(), 0.181, 0.03),
                    "3D": (jaxnc.Assembly.supercrystal(), 0.160, 0.015)}
    off = params.replace(forster_radius_nm=0.0, reabsorption_path_factor=0.0)
    without = []
    for kind, (asm, paper, spread) in preparations.items():
        plqy, lifetime = _start(model, asm, params)
        assert abs(plqy - paper) <= spread, (kind, plqy)
        without.append(_start(model, asm, off)[0])
        if kind == "3D":
            assert lifetime == pytest.approx(10.5, rel=0.15)
    assert max(without) - min(without) < 0.005
