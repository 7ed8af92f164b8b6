import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from jaxnc.cli import main


def test_help_lists_the_simulate_command(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    assert "simulate" in capsys.readouterr().out


def test_simulate_writes_csv_and_plot(tmp_path, capsys):
    out, png = tmp_path / "run.csv", tmp_path / "run.png"
    code = main(["simulate", "--assembly", "monolayer", "--nx", "3", "--ny", "3",
                 "--protocol", "light 468nm 2h; dark 50h", "--saves-per-step", "11",
                 "--out", str(out), "--plot", str(png), "--quiet"])
    assert code == 0
    data = np.genfromtxt(out, delimiter=",", names=True)
    assert len(data) == 21
    assert {"time_h", "plqy", "lifetime_ns", "ligand_lost"} <= set(data.dtype.names)
    assert 0 < data["plqy"].min() and data["plqy"].max() < 1
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*part"))  # no temporary files left behind


@pytest.mark.parametrize(
    "argv, named",
    [
        (["simulate", "--assembly", "blob", "--out", "x.csv"], "blob"),
        (["simulate", "--protocol", "light 3h; dusk 1h", "--out", "x.csv"], "dusk"),
        (["simulate", "--gap-nm", "-2", "--out", "x.csv"], "gap_nm"),
        (["simulate", "--set", "k_desorption_per_h=-1", "--out", "x.csv"], "k_desorption"),
        (["simulate", "--set", "nonsense=1", "--out", "x.csv"], "nonsense"),
        (["simulate", "--nx", "two", "--out", "x.csv"], "two"),
        (["simulate"], "--out"),
        (["simulate", "--out", "x.csv", "--plot", "x.jpgg"], "extension"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, named, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and named in err
    assert not (tmp_path / "x.csv").exists()


def test_version(capsys):
    import jaxnc

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"jaxnc {jaxnc.__version__}"


def test_installed_entry_point_reports_without_traceback(tmp_path):
    exe = [sys.executable, "-m", "jaxnc"]
    r = subprocess.run(exe + ["simulate", "--protocol", "light 3h blue", "--out",
                              str(tmp_path / "x.csv")], capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "'blue'" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_kinetics_writes_rate_constants_and_ea(tmp_path, capsys):

    # As labs write it: one dark decay per temperature appended, no sample column, time
    # restarting at 0 for each; kinetics groups the rows by temperature and says so.
    r = 8.314462618e-3
    lines = ["time_h,plqy,light,temperature_k"]
    for temp in (298.15, 318.15, 338.15):
        k = 0.0128 * np.exp(-42.1 / r * (1 / temp - 1 / 298.15))
        for t in np.linspace(0, 600, 21):
            y = 0.16 + 0.52 / (1 + k * 0.52 * t)
            lines.append(f"{t},{y},0,{temp}")
    data = tmp_path / "dark.csv"
    data.write_text("\n".join(lines) + "\n")
    out, png = tmp_path / "k.json", tmp_path / "arr.png"
    assert main(["kinetics", str(data), "--law", "pso", "--out", str(out),
                 "--plot", str(png)]) == 0
    assert "read 3 curves, one per temperature_k" in capsys.readouterr().out
    result = json.loads(out.read_text())
    assert [e["sample"] for e in result["rate_constants"]] == ["298.15K", "318.15K", "338.15K"]
    assert [e["temperature_k"] for e in result["rate_constants"]] == [298.15, 318.15, 338.15]
    assert {"k", "stderr"} <= set(result["rate_constants"][0])
    assert result["Ea_kj_mol"] == pytest.approx(42.1, abs=1e-3)  # noise-free data
    assert "Ea_stderr_kj_mol" in result
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_kinetics_bad_file_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("time_h,plqy\n0,0.5\n1,oops\n")
    assert main(["kinetics", str(bad), "--out", str(tmp_path / "k.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "row 3" in err and "plqy" in err
    assert not (tmp_path / "k.json").exists()


@pytest.mark.parametrize(
    "extra, named",
    [(["--free", "k_typo"], "k_typo"), (["--plot", "fit.gif"], "extension"),
     (["--assembly-of", "zz=isolated"], "no sample 'zz'"),
     (["--assembly-of", "sample=cube"], "KIND"),
     (["--per-sample", "coverage_typo"], "coverage_typo"),
     (["--method", "newton"], "newton")],
)
def test_fit_bad_arguments_are_one_line(tmp_path, capsys, extra, named):
    data = tmp_path / "d.csv"
    data.write_text("time_h,plqy,light\n0,0.2,1\n1,0.4,1\n2,0.5,1\n")
    out = tmp_path / "fit.json"
    assert main(["fit", str(data), "--out", str(out), "--quiet"] + extra) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and named in err
    assert not out.exists()


def test_fit_says_how_it_read_a_file_of_appended_curves(tmp_path, capsys):
    # Two decays appended, no sample column: read as two curves and said so before anything
    # else (here the fit then stops at a bad option, so nothing compiles).
    data = tmp_path / "appended.csv"
    data.write_text("time_h,plqy,light\n0,0.2,1\n1,0.4,1\n2,0.5,1\n"
                    "0,0.21,1\n1,0.41,1\n2,0.52,1\n")
    assert main(["fit", str(data), "--out", str(tmp_path / "f.json"), "--free", "k_typo"]) == 2
    assert "read 2 curves, split where time restarts (rows 5)" in capsys.readouterr().out


# `jaxnc fit` itself runs as a process of its own in tests/test_cache.py.


def test_reproduce_writes_the_table_and_figures(tmp_path):

    out = tmp_path / "rep"
    assert main(["reproduce", "hashimoto2024", "--out", str(out), "--quiet"]) == 0
    for name in ("activation.png", "cycles.png", "arrhenius.png", "lifetimes.png",
                 "long_term.png", "action_dose.png", "spectra.png", "decays.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG", name
    with open(out / "action_dose.csv") as fh:
        curve = list(csv.DictReader(fh))
    # 15 wavelengths (400-540 nm) and 10 irradiances; 530 and 540 nm never reach the level.
    assert len(curve) == 25 and curve[0]["t90_h"] and curve[13]["t90_h"] == ""
    with open(out / "comparison.csv") as fh:
        rows = {r["quantity"]: r for r in csv.DictReader(fh)}
    assert "apparent Ea of the PSO dark decay" in (out / "comparison.md").read_text()

    def check(quantity, paper, within):
        row = rows[quantity]
        assert float(row["paper"]) == paper
        assert float(row["difference"]) == pytest.approx(float(row["model"]) - paper)
        assert abs(float(row["difference"])) <= within, quantity

    # The maximum is a least-squares compromise with the rise's shape (the lit plateau is not
    # free once the rise and the dark decay are fitted: +0.27 points in one calibration, -0.01
    # in the current one), checked at the paper's stated spread of it (68.3 +- 2.2 %, n = 6).
    # The initial PLQYs and the dark lifetime are a least-squares compromise of one start
    # state for every preparation (the model's misfit: +0.31, +0.56 and -0.65 points for 3D,
    # isolated and 2D), checked at the paper's
    # stated spread for isolated cubes (1.5 points is 15 sd of its +-0.1 %, ~5 % of the value)
    # and 3D; the lifetimes at +-15 %. The PSO law is only approximate for the model's decay
    # (re-adsorption during the dark), so the apparent Ea is allowed 1 kJ/mol, the kinetics
    # test's resolution.
    check("initial PLQY, 3D array", 16.0, 1.5)
    check("initial PLQY, isolated cubes", 19.4, 1.5)
    check("initial PLQY, 2D array", 18.1, 3.0)
    check("maximum PLQY under 468 nm light, 3D array", 68.3, 2.2)
    check("apparent Ea of the PSO dark decay", 42.1, 1.0)
    check("average PL lifetime, 3D array in the dark", 10.5, 0.15 * 10.5)
    check("average PL lifetime, 3D array after light", 22.6, 0.15 * 22.6)
    rise = float(rows["rise under the same light, isolated cubes"]["model"])
    assert 0.0 < rise < 2.0  # "only a trace increase"
    # Issue 13: ~60 % after 6000 h of light (a calibration target, at the paper's "~"), with
    # the rise of the first hours unchanged (90 % of it in 1.5 h, the target, within 3 h).
    check("PLQY after 6000 h of continuous light, 3D array", 60.0, 4.0)
    assert float(rows["time to 90 % of the 3 h rise, 3D array"]["model"]) <= 3.0
    # Predictions: light beyond the absorption edge activates little, and activation follows
    # the absorbed photons (t90 at a tenth of the irradiance at least 3x longer).
    ratio = "rise in 3 h at 530 nm over the rise at 468 nm, 10 mW/cm2, 3D array"
    assert 0.0 <= float(rows[ratio]["model"]) < 0.1
    dose = "t90 at 1 mW/cm2 over t90 at 10 mW/cm2, 468 nm, 3D array"
    assert float(rows[dose]["model"]) >= 3.0
    # Spectra (issue 13): the isolated and 2D peaks are calibration targets (to the fit's
    # 0.01 nm); the dispersion's cubes emit as the isolated ones (no neighbours, no
    # reabsorption: 513.0 nm against the paper's 515, a prediction missed by 2.0 nm); the 3D
    # array redder than the 2D one (its 528 nm is a prediction the model misses: 521.4 nm,
    # see docs/model.md); its
    # peak moves < 1 nm between dark and lit (Fig. S5); the isolated FWHM inside the 12-42 nm
    # of CsPbX3 nanocrystals; the dispersion's PLQY a calibration target (+-3 points).
    check("PL peak, isolated cubes", 513.0, 0.05)
    check("PL peak, 2D array", 519.0, 0.05)
    assert float(rows["PL peak, dispersion"]["model"]) == pytest.approx(
        float(rows["PL peak, isolated cubes"]["model"]), abs=0.01)
    assert float(rows["PL peak, 3D array"]["model"]) > float(rows["PL peak, 2D array"]["model"])
    assert abs(float(rows["PL peak of the 3D array after 3 h of light minus before"]
                     ["model"])) < 1.0
    assert 12.0 < float(rows["PL FWHM, isolated cubes"]["model"]) < 42.0
    check("PLQY, dispersion", 64.9, 3.0)


def test_reproduce_refuses_a_file_as_folder(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("user data")
    assert main(["reproduce", "hashimoto2024", "--out", str(target), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a folder" in err
    assert target.read_text() == "user data"


# `jaxnc sweep` and `jaxnc design` run in tests/test_design.py, beside the sweeps whose
# compiled batches they reuse.


@pytest.mark.parametrize(
    "argv, named",
    [
        (["sweep", "--gap-nm", "1:2", "--out", "x.csv"], "--gap-nm"),
        (["sweep", "--metrics", "brightness", "--out", "x.csv"], "brightness"),
        (["sweep", "--assembly", "isolated", "--layers", "1,2", "--out", "x.csv"], "--layers"),
        (["sweep", "--protocol", "light 3h", "--out", "x.csv"], "dark step"),
        (["sweep", "--resume", "--out", "x.csv"], "checkpoint"),
        (["design", "--constraint", "plqy>0.5", "--out", "x.csv"], "plqy>0.5"),
        (["design", "--bounds", "gap_nm=5:1", "--out", "x.csv"], "gap_nm"),
        (["design", "--objective", "brightness", "--out", "x.csv"], "brightness"),
    ],
)
def test_sweep_and_design_bad_input_is_one_line(argv, named, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and named in err, err
    assert not (tmp_path / "x.csv").exists()
