"""PL spectra (`jaxnc.physics.spectra`, `Solution.pl_spectrum`, `pl_peak_nm`, `pl_fwhm_nm`)
against independent NumPy/SciPy computations of the same line shapes."""

import dataclasses

import equinox as eqx
import jax
import numpy as np
import pytest
from scipy import optimize

import jaxnc
from jaxnc.physics import spectra

HC = 1239.841984


def test_one_line_has_its_analytic_peak_and_width():
    e0, fwhm_mev = 2.4168, 80.0
    sigma = 1e-3 * fwhm_mev / (2 * np.sqrt(2 * np.log(2)))

    def per_wavelength(lam):  # Gaussian in energy times dE/dlambda = hc / lambda^2
        e = HC / lam
        return np.exp(-0.5 * ((e - e0) / sigma) ** 2) * e**2 / HC

    peak = optimize.minimize_scalar(lambda x: -per_wavelength(x), bounds=(500, 525),
                                    method="bounded", options=dict(xatol=1e-9)).x
    top = per_wavelength(peak)
    blue = optimize.brentq(lambda x: per_wavelength(x) - top / 2, 480, peak, xtol=1e-12)
    red = optimize.brentq(lambda x: per_wavelength(x) - top / 2, peak, 560, xtol=1e-12)
    grid = np.linspace(*spectra.DEFAULT_GRID_NM)
    s = spectra.ensemble_spectrum(grid, np.array([e0]), np.array([1.0]), fwhm_mev)
    np.testing.assert_allclose(np.asarray(s), per_wavelength(grid) / per_wavelength(grid).max(),
                               rtol=1e-12)
    got_peak, got_fwhm = (float(v) for v in spectra.peak_and_fwhm_nm(grid, s))
    # 0.05 nm grid: the parabola's error at the peak is O(h^3 s'''/s'') ~ 1e-5 nm and linear
    # interpolation's at the half maxima O(h^2 s'') ~ 1e-5 nm.
    assert got_peak == pytest.approx(peak, abs=1e-3)
    assert got_fwhm == pytest.approx(red - blue, abs=1e-3)
    # ~80 meV at 513 nm is ~17 nm.
    assert 16.0 < got_fwhm < 18.0


@pytest.fixture(scope="module")
def spread():
    params = jaxnc.Parameters.hashimoto2024()
    asm = jaxnc.Assembly.isolated(64, edge_sd_nm=1.1, key=jax.random.PRNGKey(0))
    return params, asm, jaxnc.simulate(asm, params, "dark 1h", model="mean_field",
                                       saves_per_step=2)


def test_size_spread_broadens_the_ensemble_spectrum_of_isolated_cubes(spread):
    """Isolated cubes share one coverage and have no transfer, so each emits in proportion to
    its absorption, (L / 9.8 nm)^2.9: the spectrum is a direct sum over the drawn edges."""
    params, asm, sol = spread
    grid = np.linspace(480.0, 560.0, 801)
    got = np.asarray(sol.pl_spectrum(grid))
    assert got.shape == (2, grid.size)
    np.testing.assert_allclose(got.max(axis=1), 1.0)
    edges = np.asarray(asm.edge_nm * asm.edge_relative).ravel()
    energies = float(params.emission_bulk_ev) + float(params.confinement_ev_nm2) / edges**2
    weights = (edges / 9.8) ** float(params.cross_section_size_exponent)
    sigma = 1e-3 * float(params.homogeneous_fwhm_mev) / (2 * np.sqrt(2 * np.log(2)))
    e = HC / grid
    expected = (np.exp(-0.5 * ((e[:, None] - energies[None, :]) / sigma) ** 2) @ weights
                * e**2 / HC)
    np.testing.assert_allclose(got[0], expected / expected.max(), rtol=1e-10)
    # The spread widens the line beyond one cube's (16.97 nm for 80 meV at 513 nm).
    single = spectra.peak_and_fwhm_nm(grid, spectra.ensemble_spectrum(
        grid, np.array([np.average(energies, weights=weights)]), np.ones(1),
        float(params.homogeneous_fwhm_mev)))[1]
    assert float(sol.pl_fwhm_nm[0]) > float(single) + 0.5
    assert float(sol.pl_peak_nm[0]) == pytest.approx(float(grid[np.argmax(expected)]), abs=0.1)


def test_spectra_need_the_solution_source(spread):
    bare = dataclasses.replace(spread[2], source=None)
    with pytest.raises(jaxnc.JaxncError, match="jaxnc.simulate"):
        bare.pl_spectrum([500.0])


# --------------------------------------------------------------------------------------------
# Why assemblies are redder: coupling, downhill transfer, reabsorption (issue 13).

KT_EV = 8.617333262e-5 * 298.15


def test_coupling_shift_limits():
    """Small coupling: the bottom of a tight-binding band, -z t; large: bounded by the
    confinement energy (a delocalised exciton reaches the bulk energy); the ligand length
    enters only where the gap is wider than both shells."""
    p = jaxnc.Parameters.hashimoto2024()
    depth = float(p.confinement_ev_nm2) / 9.8**2
    weak = p.replace(coupling_mev=1e-4)
    t = float(spectra.coupling_ev(3.0, 1.6, weak))
    assert float(spectra.coupling_shift_ev(9.8, 5.0, 3.0, 1.6, weak)) == pytest.approx(
        -5.0 * t, rel=1e-6)
    strong = p.replace(coupling_mev=1e4)
    assert float(spectra.coupling_shift_ev(9.8, 5.0, 3.0, 1.6, strong)) == pytest.approx(
        -depth, rel=1e-9)
    # Through ligand shells that fill the gap (3 nm chains) t decays with coupling_decay_nm.
    ratio = float(spectra.coupling_ev(2.5, 3.0, p) / spectra.coupling_ev(2.6, 3.0, p))
    assert ratio == pytest.approx(np.exp(0.1 / float(p.coupling_decay_nm)), rel=1e-6)
    d_ligand = jax.grad(lambda lig: spectra.coupling_ev(3.0, lig, p))
    # 3 nm chains in a 3 nm gap: the smooth min's tail, sigmoid(-15) ~ 3e-7, is all.
    assert abs(float(d_ligand(3.0))) < 1e-5 * float(spectra.coupling_ev(3.0, 3.0, p))
    assert float(d_ligand(1.2)) > 0  # shorter chains leave empty room: less coupling


def test_fast_transfer_reaches_the_boltzmann_ratio():
    """Two cells exchanging excitons much faster than they decay share them as detailed
    balance says, n1 / n2 = exp(-(E1 - E2) / kT), wherever the excitons are made; equal
    energies take exactly the path without energies."""
    from jaxnc.physics import excitons as ex
    from jaxnc.physics.transfer import transfer

    links = (np.ones(1),)
    occ = np.ones(2, bool)
    energies = np.array([2.40, 2.43])
    moves = transfer(links, 1e4, occ, energies_ev=energies, sigma_ev=0.034)
    decay = np.full(2, 0.05)
    effective = decay + moves.out - moves.base  # no traps: 1/h = k + out
    for source in ([1.0, 0.0], [0.0, 1.0]):
        n, ok = ex._solve_moves(np.asarray(source), effective, moves, occ, None)
        assert bool(ok)
        assert float(n[0] / n[1]) == pytest.approx(np.exp(0.03 / KT_EV), rel=1e-4)
    same = transfer(links, 0.3, occ, energies_ev=np.full(2, 2.41), sigma_ev=0.034)
    plain = transfer(links, 0.3, occ)
    for a, b in ((same.out, plain.out), (same.base, plain.base), (same.scale, plain.scale)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_pl_decay_first_moment_is_the_lifetime_with_downhill_transfer():
    """The ns-scale decay (every cube and trap-count class, uphill and downhill rates) and the
    two steady-state solves behind `lifetime_ns` are independent computations of one
    quantity: int t I / int I."""
    from jaxnc.physics import excitons as ex

    rng = np.random.default_rng(3)
    shape = (3, 3, 1)
    occ = np.ones(shape, bool)
    links = (np.ones((2, 3, 1)), np.ones((3, 2, 1)), np.ones((3, 3, 0)))
    energies = 2.42 + 0.02 * rng.standard_normal(shape)
    mean = 0.5 + 0.3 * rng.random(shape)
    gen = 1.0 + rng.random(shape)
    args = (gen, mean, 0.04, 0.01, 0.18, 0.05, links, occ, 15)
    # Compiled (run eagerly, every CG iteration would be dispatched op by op).
    optics = eqx.filter_jit(ex.exciton_optics)(*args, energies_ev=energies, sigma_ev=0.034)
    t = np.linspace(0.0, 600.0, 6001)
    decay = np.asarray(eqx.filter_jit(ex.pl_decay)(t, *args, energies_ev=energies,
                                                   sigma_ev=0.034))
    first = np.trapezoid(t * decay, t) / np.trapezoid(decay, t)
    # Trapezoid error on 0.1 ns steps of ns-scale exponentials: ~1e-5 relative.
    assert float(optics.lifetime_ns) == pytest.approx(first, rel=1e-4)
    # Downhill transfer moved the emission to the lower-energy cubes.
    emit = np.asarray(optics.density)
    assert np.sum(emit * energies) / np.sum(emit) < np.sum(gen * energies) / np.sum(gen)


def test_photon_recycling_is_the_sum_over_generations():
    from jaxnc.physics.reabsorption import recycled

    eta, tau, p = 0.7, 20.0, 0.3
    k = np.arange(400)
    leave = eta * (1 - p) * (eta * p) ** k  # photons leaving after k reabsorptions
    plqy, lifetime = recycled(eta, tau, p)
    assert float(plqy) == pytest.approx(leave.sum(), rel=1e-12)
    assert float(lifetime) == pytest.approx(np.sum((k + 1) * tau * leave) / leave.sum(),
                                            rel=1e-12)


def test_dispersion_starts_and_stays_at_adsorption_equilibrium(params):
    """`Assembly.dispersion`: the coverage solves k_a c (1 - theta) = k_d theta^2 with the
    solution's free ligand and stays there in the dark; no reabsorption, no transfer."""
    asm = jaxnc.Assembly.dispersion(4)
    sol = jaxnc.simulate(asm, params, "dark 10h", model="mean_field", saves_per_step=3)
    k = (float(params.k_adsorption_per_h) * float(params.dispersion_free_ligand)
         / float(params.k_desorption_per_h))
    theta = (np.sqrt(k * k + 4 * k) - k) / 2
    np.testing.assert_allclose(np.asarray(sol.coverage), theta, rtol=1e-9)
    np.testing.assert_allclose(np.asarray(sol.free_ligand),
                               float(params.dispersion_free_ligand), rtol=1e-9)
    assert float(sol.ligand_lost[-1]) == 0.0


def _check_peak_gradients(peak):
    """`jax.grad(peak)` against central differences at gap 2.9, ligand 1.4, edge 9.8 nm. The
    peak is read on a 0.05 nm grid with a parabola through the top three points, continuous
    across grid points to ~1e-5 nm; steps of 2e-3 nm move it by ~1e-3 nm, so the differences
    carry ~1e-2 relative noise."""
    x0 = np.array([2.9, 1.4, 9.8])
    grad = np.asarray(jax.grad(peak)(x0))
    for i, name in enumerate(("gap", "ligand", "edge")):
        h = np.zeros(3)
        h[i] = 2e-3
        fd = (float(peak(x0 + h)) - float(peak(x0 - h))) / (2 * h[i])
        assert abs(fd) > 0.05, name  # each moves the peak: the check is not blind
        assert grad[i] == pytest.approx(fd, rel=2e-2), name


def test_peak_gradients_of_a_state_match_finite_differences(params):
    """d peak / d (gap, ligand length, edge) of the start state's spectrum: coupling, the
    emission weights and reabsorption all move with the geometry (the default-run stand-in of
    the slow test through the solver below)."""
    from jaxnc.models import get_model
    from jaxnc.physics.spectra import DEFAULT_GRID_NM, peak_and_fwhm_nm
    from jaxnc.solve import spectrum_of_state

    model, asm = get_model("mean_field"), jaxnc.Assembly.supercrystal(4, 4, 2)
    grid = np.linspace(*DEFAULT_GRID_NM)

    @jax.jit
    def peak(x):
        a = asm.replace(gap_nm=x[0], ligand_nm=x[1], edge_nm=x[2])
        y = model.initial_state(model.cells(a, params), params)
        s = spectrum_of_state(model, a, params, y.coverage, y.charge, y.damage, grid)
        return peak_and_fwhm_nm(grid, s)[0]

    _check_peak_gradients(peak)


@pytest.mark.slow  # ~35 s: reverse mode through the solver compiles for ~20 s
def test_peak_gradients_through_the_solver_match_finite_differences(params):
    asm = jaxnc.Assembly.supercrystal(4, 4, 2)

    def peak(x):
        a = asm.replace(gap_nm=x[0], ligand_nm=x[1], edge_nm=x[2])
        return jaxnc.simulate(a, params, "light 1h", model="mean_field",
                              saves_per_step=2).pl_peak_nm[-1]

    _check_peak_gradients(peak)
