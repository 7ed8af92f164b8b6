"""PL spectra (`jaxnc.physics.spectra`, `Solution.pl_spectrum`, `pl_peak_nm`, `pl_fwhm_nm`)
against independent NumPy/SciPy computations of the same line shapes."""

import dataclasses

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
