import json
import subprocess
import sys

import numpy as np
import pytest

import jaxnc
from jaxnc.cli import main


def test_help_lists_the_simulate_command(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    assert "simulate" in capsys.readouterr().out


@pytest.mark.integration
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


@pytest.mark.integration
def test_simulate_takes_the_parameters_of_a_fit_json(tmp_path):
    """`--params fit.json` reads every value of the fitted set (a fit's output carries them
    all, fixed ones too), `--set` goes over it; the run equals the same set given in Python.
    Same lattice, protocol and saves as the test above: its compiled program is reused."""
    fitted = jaxnc.Parameters.hashimoto2024().replace(k_desorption_per_h=5e-3,
                                                      coverage_initial=0.12)
    path = tmp_path / "fit.json"
    path.write_text(json.dumps({"values": {"k_desorption_per_h": 5e-3},
                                "parameters": fitted.to_dict(), "sample_parameters": {}}))
    assert jaxnc.Parameters.from_json(path) == fitted
    out = tmp_path / "run.csv"
    argv = ["simulate", "--assembly", "monolayer", "--nx", "3", "--ny", "3", "--protocol",
            "light 468nm 2h; dark 50h", "--saves-per-step", "11", "--quiet"]
    assert main([*argv, "--params", str(path), "--set", "k_adsorption_per_h=3e-6",
                 "--out", str(out)]) == 0
    sol = jaxnc.simulate(jaxnc.Assembly.monolayer(3, 3),
                         fitted.replace(k_adsorption_per_h=3e-6), "light 468nm 2h; dark 50h",
                         saves_per_step=11)
    data = np.genfromtxt(out, delimiter=",", names=True)
    np.testing.assert_allclose(data["plqy"], np.asarray(sol.plqy), rtol=1e-12, atol=0)


def test_parameters_from_json_choose_a_sample_and_refuse_what_they_cannot_read(tmp_path):
    base = jaxnc.Parameters.hashimoto2024()
    a, b = base.replace(coverage_initial=0.1), base.replace(coverage_initial=0.2)
    fit = {"parameters": a.to_dict(), "sample_parameters": {"a": a.to_dict(),
                                                            "b": b.to_dict()}}
    assert jaxnc.Parameters.from_json(fit, sample="b") == b
    assert jaxnc.Parameters.from_json({"k_desorption_per_h": 1e-3}) == base.replace(
        k_desorption_per_h=1e-3)
    for source, sample, why in ((fit, None, "say which sample"),
                                (fit, "c", "no sample 'c'"),
                                ({"nonsense": 1.0}, None, "nonsense"),
                                ({"k_desorption_per_h": "fast"}, None, "must be numbers"),
                                (tmp_path / "none.json", None, "file not found")):
        with pytest.raises(jaxnc.ParameterError, match=why):
            jaxnc.Parameters.from_json(source, sample=sample)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["simulate", "--params", str(bad), "--out", str(tmp_path / "x.csv")]) == 2


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
