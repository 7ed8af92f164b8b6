"""Excitons (jaxnc.physics.excitons): Poisson trap statistics against their closed forms, and
the steady-state exciton field on the lattice against exact discrete solutions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, stats

import jaxnc
from jaxnc.models import get_model
from jaxnc.physics import excitons as ex

K_R, K_0, K_Q = 0.030, 0.014, 0.08  # 1/ns: the default k_r and k_nr, a trap of 12.5 ns


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
    dens, ok = ex.steady_state_excitons(jnp.full(cells.weight.shape, g), decay, k_et,
                                        cells.links, cells.occupied)
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
    dens, ok = ex.steady_state_excitons(gen, decay, k_et, cells.links, cells.occupied)
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

    grad = jax.grad(total, argnums=(0, 1))(2.0, 5.0)
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
    cells = _lattice((3, 3, 2))
    mean = 1.7
    n_max = ex.trap_count_bound(mean)
    optics = ex.exciton_optics(jnp.ones(cells.weight.shape), jnp.full(cells.weight.shape, mean),
                               K_R, K_0, K_Q, 0.0, cells.links, cells.occupied, n_max)
    assert bool(optics.ok)
    assert float(optics.plqy) == pytest.approx(float(ex.plqy_poisson(mean, K_R, K_0, K_Q,
                                                                     n_max)), rel=1e-10)
    assert float(optics.lifetime_ns) == pytest.approx(
        float(ex.average_lifetime_poisson_ns(mean, K_R, K_0, K_Q, n_max)), rel=1e-10)
    t = jnp.linspace(0.0, 150.0, 31)
    decay = ex.pl_decay(t, jnp.ones(cells.weight.shape), jnp.full(cells.weight.shape, mean),
                        K_R, K_0, K_Q, 0.0, cells.links, cells.occupied, n_max)
    np.testing.assert_allclose(decay, ex.pl_decay_poisson(t, mean, K_R, K_0, K_Q), atol=1e-6)


def test_transfer_quenches_assemblies_more_than_isolated_cubes():
    """Same trap statistics everywhere: an exciton that lingers in a trap-free cube hops on
    and may meet a trapped one, so PLQY falls with the number of neighbours (isolated >
    monolayer > 3D), and the decay's moments equal the two-solve formulas."""
    mean, k_et = 1.2, 0.2
    n_max = ex.trap_count_bound(mean)
    plqy = {}
    for name, shape in (("isolated", (1, 1, 1)), ("monolayer", (6, 6, 1)),
                        ("3D", (6, 6, 4))):
        cells = _lattice(shape)
        ones = jnp.ones(cells.weight.shape)
        optics = ex.exciton_optics(ones, mean * ones, K_R, K_0, K_Q, k_et, cells.links,
                                   cells.occupied, n_max)
        plqy[name] = float(optics.plqy)
        if name == "monolayer":
            t = jnp.linspace(0.0, 1500.0, 3001)  # out to ~e^-66 of the slowest class
            decay = np.asarray(ex.pl_decay(t, ones, mean * ones, K_R, K_0, K_Q, k_et,
                                           cells.links, cells.occupied, n_max))
            area = integrate.simpson(decay, x=np.asarray(t))
            first = integrate.simpson(np.asarray(t) * decay, x=np.asarray(t))
            # Simpson on 0.5 ns steps against decay times >= 5 ns: error ~1e-7 relative.
            assert K_R * area == pytest.approx(plqy[name], rel=1e-6)
            assert first / area == pytest.approx(float(optics.lifetime_ns), rel=1e-6)
    assert plqy["isolated"] > plqy["monolayer"] > plqy["3D"]
    assert plqy["isolated"] == pytest.approx(float(ex.plqy_poisson(mean, K_R, K_0, K_Q, n_max)),
                                             rel=1e-10)
