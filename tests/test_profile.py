"""Profile likelihood (jaxnc.profile, `jaxnc profile`): the interval read-out, bad input,
and (slow tier) real profiles against the Gauss-Newton interval and a flat one."""

import json

import numpy as np
import pytest

import jaxnc
from jaxnc.fitting import CHI2_QUANTILES, likelihood_interval


def test_a_quadratic_profile_gives_the_gaussian_interval_on_any_grid():
    # Coarse and uneven, through the minimum (as profile()'s grid is: centred on the fit).
    z = 0.25 + 0.5 * np.array([-4.0, -2.5, -1.3, 0.0, 0.7, 1.6, 3.1])
    chi2 = ((z - 0.25) / 0.5) ** 2  # a Gaussian of sd 0.5 at 0.25
    lo, hi = likelihood_interval(z, chi2, CHI2_QUANTILES["ci95"])
    assert lo == pytest.approx(0.25 - 1.959964 * 0.5, rel=1e-6)
    assert hi == pytest.approx(0.25 + 1.959964 * 0.5, rel=1e-6)
    lo68, hi68 = likelihood_interval(z, chi2, CHI2_QUANTILES["ci68"])
    assert (lo68, hi68) == pytest.approx((-0.25, 0.75))


def test_a_side_that_stays_below_the_level_is_open():
    z = np.linspace(-2, 2, 9)
    chi2 = np.where(z < 0, 4 * z**2, 0.1 * z**2)  # rises to 16 on the left, to 0.4 right
    lo, hi = likelihood_interval(z, chi2, CHI2_QUANTILES["ci95"])
    assert lo == pytest.approx(-np.sqrt(CHI2_QUANTILES["ci95"] / 4), rel=1e-6) and hi is None


def test_command_line_refuses_an_unknown_parameter(tmp_path, capsys):
    from jaxnc.cli import main

    csv = tmp_path / "d.csv"
    csv.write_text("time_h,plqy,light\n0,0.16,1\n1,0.3,1\n2,0.4,1\n3,0.5,1\n")
    code = main(["profile", str(csv), "--param", "k_nosuch", "--out", str(tmp_path / "p.json")])
    err = capsys.readouterr().err
    assert code == 2 and "k_nosuch" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "p.json").exists()


@pytest.mark.slow
def test_profiles_agree_with_gauss_newton_where_linear_and_flag_a_flat_one(tmp_path):
    from jaxnc.cli import main
    from jaxnc.data import synthetic_dataset
    from jaxnc.fitting import profile

    true = jaxnc.Parameters.hashimoto2024()
    asm = jaxnc.Assembly.supercrystal(2, 2, 1)
    data = synthetic_dataset(asm, true, {"a": "light 3h; dark 200h"}, saves_per_step=16,
                             noise=0.01, seed=4)
    free = ["k_desorption_per_h", "k_adsorption_per_h"]
    r = profile(data, asm, true, "k_desorption_per_h", free, points=9, progress=False)
    lo, hi = r.ci95
    assert lo < float(true.k_desorption_per_h) < hi
    # Near-linear in the log of the rate at 1 % noise: the two intervals agree to 20 % of
    # the Gauss-Newton width (the bar), and the profile has its minimum at the fit.
    width = r.laplace_ci95[1] - r.laplace_ci95[0]
    assert abs(lo - r.laplace_ci95[0]) < 0.2 * width and abs(hi - r.laplace_ci95[1]) < 0.2 * width
    assert r.identifiable and not r.flat and np.nanmin(r.chi2) >= -1e-6
    # At 298.15 K, the Arrhenius reference temperature, Ea_desorption changes nothing: flat.
    flat = profile(data, asm, true, "Ea_desorption_kj_mol", ["k_desorption_per_h"],
                   points=5, progress=False)
    assert flat.flat and not flat.identifiable and flat.ci95 == (None, None)
    data.to_csv(tmp_path / "d.csv")
    assert main(["profile", str(tmp_path / "d.csv"), "--param", "k_desorption_per_h",
                 "--free", "k_adsorption_per_h", "--nx", "2", "--ny", "2", "--nz", "1",
                 "--points", "5", "--out", str(tmp_path / "p.json"), "--plot",
                 str(tmp_path / "p.png"), "--quiet"]) == 0
    out = json.loads((tmp_path / "p.json").read_text())
    assert out["identifiable"] and len(out["values"]) == 5
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_a_gap_in_the_profile_is_stepped_over_or_leaves_the_side_open():
    z = np.linspace(-4, 4, 9)
    chi2 = z**2
    chi2[-1] = np.nan  # beyond the right crossing: it does not matter
    assert likelihood_interval(z, chi2, CHI2_QUANTILES["ci95"]) == pytest.approx((-1.959964,
                                                                               1.959964))
    chi2[5:7] = np.nan  # where the right side would cross (z = 1, 2): open, not a guess
    assert likelihood_interval(z, chi2, CHI2_QUANTILES["ci95"])[1] is None
