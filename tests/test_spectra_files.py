"""Spectra as spectrometers export them: wide (one column per wavelength) and long (one row
per wavelength) files read to the same spectra, joined with other files of the sample, and
the noise estimator of every kind of data against white noise of known deviation."""

import numpy as np
import pytest

from jaxnc import DataError
from jaxnc.data import Dataset, combine_datasets
from jaxnc.fitting import noise_levels

NM = np.array([500.0, 505.0, 510.0, 515.0, 520.0])
SPECTRA = np.array([[1.0, 5.0, 9.0, 4.0, 1.0], [2.0, 6.0, 10.0, 5.0, 2.0]])


def _wide(tmp_path, delimiter=",", decimal="."):
    def fmt(v):
        return f"{v:g}".replace(".", decimal)

    header = delimiter.join(["Time (min)", "Light"] + [f"{fmt(nm)} nm" for nm in NM])
    rows = [delimiter.join([fmt(t), light] + [fmt(v) for v in s])
            for t, light, s in zip((0.0, 90.0), ("off", "on"), SPECTRA, strict=True)]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _long(tmp_path, name="long.csv", with_time=True):
    lines = ["time (min),wavelength (nm),PL intensity (counts),light"]
    for t, light, s in zip((0.0, 90.0), ("off", "on"), SPECTRA, strict=True):
        lines += [f"{t:g},{nm:g},{v:g},{light}" for nm, v in zip(NM, s, strict=True)]
    if not with_time:
        lines = ["wavelength (nm),counts"] + [f"{nm:g},{v:g}" for nm, v in
                                              zip(NM, SPECTRA[0], strict=True)]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_wide_and_long_files_read_to_the_same_spectra(tmp_path):
    wide = Dataset.from_csv(_wide(tmp_path)).curves[0]
    long = Dataset.from_csv(_long(tmp_path)).curves[0]
    for c in (wide, long):
        np.testing.assert_array_equal(c.spectrum_nm, NM)
        np.testing.assert_array_equal(c.spectrum, SPECTRA)
        np.testing.assert_array_equal(c.time_h, [0.0, 1.5])
        np.testing.assert_array_equal(c.light, [0.0, 1.0])
        assert np.isnan(c.plqy).all() and c.intensity is None  # the counts are the spectra
    note = Dataset.from_csv(_long(tmp_path)).note
    assert "read 2 spectra of up to 5 wavelengths (one row per wavelength)" in note


def test_a_semicolon_file_with_decimal_commas_in_its_wavelengths(tmp_path):
    c = Dataset.from_csv(_wide(tmp_path, delimiter=";", decimal=",")).curves[0]
    np.testing.assert_array_equal(c.spectrum_nm, NM)
    np.testing.assert_array_equal(c.spectrum, SPECTRA)


def test_one_spectrum_without_a_time_column_is_taken_at_zero(tmp_path):
    data = Dataset.from_csv(_long(tmp_path, with_time=False))
    c = data.curves[0]
    np.testing.assert_array_equal(c.time_h, [0.0])
    np.testing.assert_array_equal(c.spectrum, SPECTRA[:1])
    assert "no time column: taken at 0 h" in data.note


def test_spectra_survive_to_csv_and_join_a_plqy_file_of_the_sample(tmp_path):
    spectra = Dataset.from_csv(_wide(tmp_path))
    path = tmp_path / "again.csv"
    spectra.to_csv(path)
    again = Dataset.from_csv(path).curves[0]
    np.testing.assert_array_equal(again.spectrum, SPECTRA)
    plqy = tmp_path / "plqy.csv"
    plqy.write_text("sample,time (h),PLQY (%),light\nsample,0,16,0\nsample,1,40,1\n"
                    "sample,1.5,55,1\n")
    joined = combine_datasets([Dataset.from_csv(plqy), Dataset.from_csv(path)]).curves[0]
    np.testing.assert_array_equal(joined.time_h, [0.0, 1.0, 1.5])
    np.testing.assert_allclose(joined.plqy, [0.16, 0.40, 0.55])
    np.testing.assert_array_equal(joined.spectrum[[0, 2]], SPECTRA)
    assert np.isnan(joined.spectrum[1]).all()  # no spectrum at 1 h
    with pytest.raises(DataError, match="a spectrum at 0 h is given in"):
        combine_datasets([Dataset.from_csv(path), Dataset.from_csv(path)])


def test_bad_spectra_cells_and_axes_get_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("time (h),light,500 nm,505 nm,510 nm\n0,1,1,x,3\n")
    with pytest.raises(DataError, match=r"bad.csv, row 2, column '505 nm': 'x' is not a number"):
        Dataset.from_csv(bad)
    ev = tmp_path / "ev.csv"
    ev.write_text("time (h),wavelength (eV),counts,light\n0,2.4,1,1\n")
    with pytest.raises(DataError, match="wavelengths are read in nm, not 'ev'"):
        Dataset.from_csv(ev)
    twice = tmp_path / "twice.csv"
    twice.write_text("time (h),wavelength (nm),counts,light\n0,500,1,1\n0,500,2,1\n")
    with pytest.raises(DataError, match="wavelength 500 nm repeats within one spectrum"):
        Dataset.from_csv(twice)


def test_noise_estimates_match_white_noise_of_known_deviation():
    """Each kind's estimator on smooth curves plus white noise of known deviation: within
    the estimator's own spread (a median of ~100-400 terms: ~10 % at one sigma; 25 % allowed)."""
    import dataclasses

    from jaxnc.data import Curve

    rng = np.random.default_rng(1)
    t = np.linspace(0.0, 3.0, 120)
    smooth = 0.16 + 0.5 * (1 - np.exp(-t / 0.8))
    nm = np.arange(470.0, 560.0, 1.0)
    line = np.exp(-0.5 * ((nm - 515.0) / 8.0) ** 2)  # a 19 nm wide peak on a 1 nm grid
    curve = Curve("s", t, smooth + 0.01 * rng.standard_normal(t.size), light=np.ones(t.size),
                  lifetime_ns=10 + 5 * smooth + 0.3 * rng.standard_normal(t.size),
                  intensity=1e5 * smooth * np.exp(0.02 * rng.standard_normal(t.size)))
    spectra = np.full((t.size, nm.size), np.nan)
    spectra[:4] = line + 0.01 * rng.standard_normal((4, nm.size))
    curve = dataclasses.replace(curve, spectrum_nm=nm, spectrum=spectra)
    levels = noise_levels(Dataset((curve,)))
    for kind, truth in (("plqy", 0.01), ("lifetime", 0.3), ("intensity", 0.02),
                        ("spectrum", 0.01)):
        assert levels.source[kind] == "estimated"
        assert abs(levels.sigma[kind] / truth - 1) < 0.25, (kind, levels.sigma[kind])
    given = noise_levels(Dataset((curve,)), {"intensity": 0.05})
    assert given.sigma["intensity"] == 0.05 and given.source["intensity"] == "given"


@pytest.mark.parametrize("noise, why", [("intensity=abc", "expected KIND=SD"),
                                        ("counts=0.02", "noise names unknown kind(s) ['counts']"),
                                        ("intensity=-1", "must be a positive number")])
def test_a_bad_noise_option_gets_one_line(tmp_path, capsys, noise, why):
    from jaxnc.cli import main

    out = tmp_path / "fit.json"
    assert main(["fit", str(_wide(tmp_path)), "--noise", noise, "--free", "emission_bulk_ev",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and why in err and not out.exists()
