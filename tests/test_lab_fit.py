"""Fits of what labs measure (issue: fit PL intensity, spectra, several kinds at once): data
written from known parameters with noise of known deviation, in each kind's own noise model
(PLQY and lifetimes absolute, intensity relative, spectra a fraction of their maximum)."""

import json

import numpy as np
import pytest

import jaxnc
from jaxnc.cli import main
from jaxnc.data import Dataset, synthetic_dataset
from jaxnc.fitting import fit, fit_problem_of

pytestmark = pytest.mark.integration  # whole solves: left out of `make test-quick`

TRUE = jaxnc.Parameters.hashimoto2024()
CYCLES = "light 3h; dark 20h; light 3h; dark 20h"
NOISE = {"plqy": 0.01, "lifetime": 0.2, "intensity": 0.02, "spectrum": 0.01}
NM = np.arange(470.0, 561.0, 2.0)


def _with_noise(data, seed):
    """Clean synthetic curves plus white noise of `NOISE` in the fit's noise models, each
    kind drawn from its own stream of `seed`."""
    import dataclasses

    streams = dict(zip(NOISE, (np.random.default_rng(s) for s in
                               np.random.SeedSequence(seed).spawn(len(NOISE))), strict=True))
    out = []
    for c in data.curves:
        def noisy(a, kind, scale=1.0):
            return a + NOISE[kind] * scale * streams[kind].standard_normal(a.shape)

        spectra = c.spectrum
        if spectra is not None:  # rows without a spectrum (all NaN) stay NaN
            peak = np.max(np.nan_to_num(spectra), axis=1, keepdims=True)
            spectra = noisy(spectra, "spectrum", peak)
        out.append(dataclasses.replace(
            c, plqy=noisy(c.plqy, "plqy"),
            lifetime_ns=None if c.lifetime_ns is None else noisy(c.lifetime_ns, "lifetime"),
            intensity=None if c.intensity is None else
            c.intensity * np.exp(noisy(np.zeros(len(c)), "intensity")),
            spectrum=spectra))
    return Dataset(tuple(out), source="synthetic")


def _recovered(result, names):
    for n in names:
        truth = float(getattr(TRUE, n))
        assert abs(result.values[n] - truth) <= 2.5 * result.stderr[n], (
            n, result.values[n], truth, result.stderr[n])
        assert result.stderr[n] < 0.1 * abs(truth), n  # determined, not just covered


def test_the_lab_session_script_writes_three_files_that_join_into_one_sample(tmp_path):
    """The default-run stand-in of experiments/lab_session.py's --quick run (slow tier,
    tests/test_gallery.py): its files read back and joined by sample (its fit: the joint fit
    below, slow tier too; in the default run the residuals of every kind are checked without a
    solve, tests/test_observations.py, and the fitter's solve and Jacobian path by every PLQY
    fit)."""
    from conftest import load_experiment

    lab = load_experiment("lab_session")
    paths = lab.write_session(tmp_path, jaxnc.Assembly.supercrystal(6, 6, 3), TRUE, saves=16)
    data = [Dataset.from_csv(p) for p in paths]
    (curve,) = jaxnc.data.combine_datasets(data).curves
    assert curve.sample == "film" and lab.PROTOCOL == CYCLES
    assert np.isfinite(curve.intensity).sum() == 31  # 16 saves in each light step, one shared
    assert np.isfinite(curve.plqy).sum() == len(lab.SPOTS_H)
    assert np.isfinite(curve.spectrum).any(axis=1).sum() == 2
    np.testing.assert_array_equal(curve.spectrum_nm, lab.NM)


@pytest.mark.slow  # ~15-30 s (its own program); stand-in: tests/test_observations.py
def test_plqy_intensity_spectra_and_lifetimes_fitted_together(tmp_path):
    """Must show 4: one sample, four kinds of data with known noise, each fitted to its noise
    (reduced chi-square 0.7-1.5 for n = 31-230 points: chi-square/n of pure noise lies within
    1 +- 2 sqrt(2/n), 0.64-1.36 at n = 61, the fit's parameters taking their share of the
    degrees of freedom); the collection factor and the parameters recovered; the JSON lists
    every kind's goodness of fit; the Jacobian of the mixed residuals (forward sensitivities
    carried through the projections by the chain rule) against central differences of the
    same compiled residuals."""
    asm = jaxnc.Assembly.supercrystal(6, 6, 3)
    clean = synthetic_dataset(asm, TRUE, {"film": CYCLES}, noise=0.0, saves_per_step=16,
                              observe=("plqy", "lifetime", "intensity", "spectrum"),
                              spectrum_nm=NM, collection_factor=1e-10)
    data = _with_noise(clean, seed=0)
    free = ["k_adsorption_per_h", "k_desorption_per_h", "k_radiative_per_ns",
            "k_trap_nonradiative_per_ns", "emission_bulk_ev", "homogeneous_fwhm_mev"]
    start = TRUE.replace(**{n: float(getattr(TRUE, n)) * (1.004 if n == "emission_bulk_ev"
                                                          else 1.2) for n in free})
    result = fit(data, asm, start, free, noise=NOISE, progress=False)
    _recovered(result, free)
    assert set(result.goodness) == {"plqy", "lifetime", "intensity", "spectrum"}
    for kind, g in result.goodness.items():
        assert g["noise_source"] == "given" and g["noise"] == pytest.approx(NOISE[kind])
        assert 0.7 < g["reduced_chi2"] < 1.5, (kind, g)
    c, sd = result.collection_factor["film"], result.collection_factor_stderr["film"]
    assert abs(c - 1e-10) < 2.5 * sd and sd < 0.01 * c
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(result.to_json()))
    saved = json.loads(path.read_text())
    assert saved["goodness"]["spectrum"]["n"] == 5 * NM.size  # 5 spectra: start, 4 step ends
    assert saved["collection_factor"] == {"film": c}

    setup = fit_problem_of(data, asm, result.params, free, [], {})
    r, jac = setup.evaluate(setup.z0)
    h = 1e-5
    for i in range(len(free)):
        e = h * np.eye(len(free))[i]
        diff = (setup.evaluate(setup.z0 + e)[0] - setup.evaluate(setup.z0 - e)[0]) / (2 * h)
        # The sensitivities are accurate to about 10 rtol of each column's scale (the
        # solver's tolerance, jaxnc.solve.solve_sensitivities_at).
        np.testing.assert_allclose(jac[:, i], diff, rtol=0, atol=1e-4 * np.abs(diff).max())


@pytest.mark.slow  # ~30 s (its own program); the joint test above fits spectra in the default run
def test_emission_parameters_from_a_spectra_file(tmp_path):
    """Must show 2: a wide spectra CSV of a 3D film, dark then lit then dark again: the
    emission energy and homogeneous width within 2 standard errors, the peak within 0.3 nm.
    The coupling shift is left at its value: one film's spectra do not separate it from the
    bulk emission energy (both move every line; freed together the pair wanders along that
    valley)."""
    asm = jaxnc.Assembly.supercrystal(6, 6, 3)
    clean = synthetic_dataset(asm, TRUE, {"film": "light 3h; dark 20h"}, noise=0.0,
                              saves_per_step=11, observe=("spectrum",), spectrum_nm=NM)
    c = _with_noise(clean, seed=2).curves[0]
    rows = np.isfinite(c.spectrum).any(axis=1)
    path = tmp_path / "spectra.csv"
    lines = ["Time (h),Light," + ",".join(f"{nm:g}" for nm in NM)]
    lines += [f"{float(t)!r},{'on' if light else 'off'}," + ",".join(f"{float(v)!r}" for v in s)
              for t, light, s in zip(c.time_h[rows], c.light[rows], c.spectrum[rows],
                                     strict=True)]
    path.write_text("\n".join(lines) + "\n")
    data = Dataset.from_csv(path)
    assert data.summary().startswith("1 curve(s) (sample), 3 rows; values: spectra 3")
    free = ["emission_bulk_ev", "homogeneous_fwhm_mev"]
    start = TRUE.replace(emission_bulk_ev=TRUE.emission_bulk_ev + 0.01,
                         homogeneous_fwhm_mev=1.2 * TRUE.homogeneous_fwhm_mev)
    result = fit(data, asm, start, free, progress=False)
    for n in free:
        assert abs(result.values[n] - float(getattr(TRUE, n))) <= 2 * result.stderr[n], n
    assert 0.7 < result.goodness["spectrum"]["reduced_chi2"] < 1.5
    peaks = [np.asarray(jaxnc.simulate(asm, p, "light 3h; dark 20h", saves_per_step=11)
                        .pl_peak_nm) for p in (TRUE, result.params)]
    assert np.max(np.abs(peaks[0] - peaks[1])) < 0.3


def _counts_file(path, plqy_rows=()):
    """Must show 1's file: `Time (min)`, `PL intensity (a.u.)`, `Light`, two light/dark
    cycles, 10^4-10^6 counts with 2 % multiplicative noise; `plqy_rows`: rows given an
    absolute PLQY (%) too."""
    asm = jaxnc.Assembly.supercrystal(6, 6, 3)
    clean = synthetic_dataset(asm, TRUE, {"film": CYCLES}, noise=0.0, saves_per_step=25,
                              observe=("plqy", "intensity"), collection_factor=1.5e-10)
    c = _with_noise(clean, seed=3).curves[0]
    truth_plqy = clean.curves[0].plqy
    header = "Time (min),PL intensity (a.u.),Light" + (",PLQY (%)" if plqy_rows else "")
    lines = [header]
    for i, (t, counts, light) in enumerate(zip(c.time_h, c.intensity, c.light, strict=True)):
        cells = [f"{60 * t:.4f}", "" if np.isnan(counts) else f"{counts:.1f}",
                 "on" if light else "off"]
        if plqy_rows:
            cells.append(f"{100 * c.plqy[i]:.3f}" if i in plqy_rows else "")
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")
    assert 1e4 < np.nanmin(c.intensity) and np.nanmax(c.intensity) < 1e6
    return asm, clean.curves[0].time_h, truth_plqy


@pytest.mark.slow  # two command-line fits with free=auto (~90 s); the joint test above stands in
def test_a_file_of_pl_counts_fits_from_the_command_line(tmp_path, capsys):
    """Must show 1: counts alone reach their noise with the collection factor reported;
    two absolute PLQY rows of the same sample then pin the PLQY curve to within 2 points."""
    shape = ["--nx", "6", "--ny", "6", "--nz", "3"]
    _, time_h, truth = _counts_file(tmp_path / "counts.csv")
    assert main(["fit", str(tmp_path / "counts.csv"), "--out", str(tmp_path / "a.json"),
                 *shape]) == 0
    a = json.loads((tmp_path / "a.json").read_text())
    assert 0.7 < a["goodness"]["intensity"]["reduced_chi2"] < 1.5
    assert a["collection_factor_stderr"]["sample"] > 0
    assert "collection_factor[sample]" in capsys.readouterr().out
    spots = (0, int(np.argmin(np.abs(time_h - 3.0))))  # before and at the end of the light
    asm, time_h, truth = _counts_file(tmp_path / "both.csv", plqy_rows=spots)
    assert main(["fit", str(tmp_path / "both.csv"), "--out", str(tmp_path / "b.json"),
                 *shape]) == 0
    b = json.loads((tmp_path / "b.json").read_text())
    params = TRUE.replace(**b["values"])
    fitted = jaxnc.simulate(asm, params, CYCLES, saves_per_step=25)
    np.testing.assert_allclose(np.asarray(fitted.time_h), time_h)
    assert np.max(np.abs(np.asarray(fitted.plqy) - truth)) < 0.02
