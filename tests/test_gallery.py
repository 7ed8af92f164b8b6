"""The documentation site's checks that need no build: every experiment runs with `--quick` and
its figure is on the gallery page (docs/gallery.md); the API reference (docs/api/) covers
every public name of jaxnc and its subpackages. (`experiments/design_map.py --quick` runs in
tests/test_design.py, beside the sweeps whose compiled programs it shares.) `make docs`
builds the site with --strict (broken cross-references, links and formulas fail it)."""

from __future__ import annotations

import csv
import importlib
import json
import re
import sys
import types
from pathlib import Path

import pytest
from conftest import EXPERIMENTS, load_experiment

pytestmark = pytest.mark.integration  # whole solves: left out of `make test-quick`

DOCS = EXPERIMENTS.parent / "docs"
SCRIPTS = sorted(p.stem for p in EXPERIMENTS.glob("*.py") if not p.name.startswith("_"))
PACKAGES = ("jaxnc", "jaxnc.errors", "jaxnc.runtime", "jaxnc.runtime.distributed",
            "jaxnc.geometry", "jaxnc.parameters", "jaxnc.protocol", "jaxnc.physics",
            "jaxnc.models", "jaxnc.solve", "jaxnc.data", "jaxnc.analysis", "jaxnc.fitting",
            "jaxnc.inference", "jaxnc.design", "jaxnc.plot", "jaxnc.papers",
            "jaxnc.papers.hashimoto2024", "jaxnc.cli")


# --- the gallery page ---------------------------------------------------------------------

def test_every_experiment_is_on_the_gallery_page_with_its_figure():
    page = (DOCS / "gallery.md").read_text()
    assert len(SCRIPTS) >= 6
    for name in SCRIPTS:
        assert f"](gallery/{name}.png)" in page, f"{name}: figure not on docs/gallery.md"
        assert f'--8<-- "experiments/{name}.py"' in page, f"{name}: script not on the page"
        assert (DOCS / "gallery" / f"{name}.png").read_bytes()[:4] == b"\x89PNG", name
        # --quick, --figure, --docs and --out (the tests below run each script with them);
        # the figure's path is settled by _gallery.outputs before anything is written
        text = (EXPERIMENTS / f"{name}.py").read_text()
        assert "_gallery.parser(" in text and "_gallery.outputs(args)" in text, name
        assert text.index("_gallery.outputs(args)") < text.index("args.figure"), name


def test_a_gallery_run_without_flags_writes_only_under_out(tmp_path, monkeypatch):
    """A script run with --quick and nothing else leaves the repository as it was: its figure
    and outputs go to out/NAME (ignored by git); only --docs writes into docs/gallery/."""
    gallery = load_experiment("_gallery")
    monkeypatch.chdir(tmp_path)
    ap = gallery.parser("doc", "demo")
    args = ap.parse_args(["--quick"])
    out = gallery.outputs(args)
    assert out == Path("out/demo") and Path(args.figure) == Path("out/demo/demo.png")
    args = ap.parse_args(["--docs"])
    gallery.outputs(args)
    assert Path(args.figure) == DOCS / "gallery" / "demo.png"
    args = ap.parse_args(["--figure", "x.png"])
    gallery.outputs(args)
    assert args.figure == "x.png"
    with pytest.raises(SystemExit):
        ap.parse_args(["--docs", "--figure", "x.png"])
    ignored = (EXPERIMENTS.parent / ".gitignore").read_text().splitlines()
    assert "/out/" in ignored


# --- the API reference --------------------------------------------------------------------

def _entries() -> list[tuple[str, bool]]:
    """`(identifier, renders_members)` of every `::: identifier` in docs/api/*.md."""
    out = []
    for page in sorted((DOCS / "api").glob("*.md")):
        lines = page.read_text().splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"^::: ([\w.]+)\s*$", line)
            if m:
                options = []
                for follow in lines[i + 1:]:
                    if not follow.startswith("    "):
                        break
                    options.append(follow.strip())
                out.append((m.group(1), "members: false" not in options))
    return out


def _resolve(identifier: str):
    parts = identifier.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for attr in parts[k:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(identifier)


def test_the_api_reference_covers_every_public_name():
    documented_ids, documented_names = set(), set()
    for identifier, members in _entries():
        obj = _resolve(identifier)  # an entry naming nothing would break the build too
        documented_ids.add(id(obj))
        documented_names.add(identifier)
        if members and isinstance(obj, types.ModuleType):
            # A module rendered with its members documents what it defines.
            for attr, value in vars(obj).items():
                if not attr.startswith("_") and getattr(value, "__module__", None) == obj.__name__:
                    documented_ids.add(id(value))
    missing = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            value = getattr(module, name)
            if f"{package}.{name}" not in documented_names and id(value) not in documented_ids:
                missing.append(f"{package}.{name}")
    assert not missing, f"public names with no entry in docs/api/: {missing}"


def test_generated_pages_list_every_command_and_every_parameter():
    sys.path.insert(0, str(DOCS))
    try:
        hooks = importlib.import_module("_hooks")
    finally:
        sys.path.remove(str(DOCS))
    from jaxnc.parameters import PARAMETER_INFO

    cli = hooks.cli_reference()
    for name in ("simulate", "fit", "profile", "kinetics", "sweep", "design", "reproduce"):
        assert f"## `jaxnc {name}`" in cli and f"usage: jaxnc {name}" in cli, name
    assert "## `jaxnc`" in cli and cli.count("## `jaxnc ") == 7  # no command left out
    table = hooks.parameter_table().splitlines()
    assert len(table) == 2 + len(PARAMETER_INFO)
    for row, name in zip(table[2:], PARAMETER_INFO, strict=True):
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[0] == f"`{name}`" and cells[3] in ("paper", "literature", "calibrated",
                                                         "estimate") and cells[4], row


# --- every experiment, --quick --------------------------------------------------------------

def test_demo_quick(run_quick):
    out = run_quick("demo")
    with open(out / "demo.csv") as fh:
        rows = list(csv.DictReader(fh))
    # The 3D array rises under light far above the isolated cubes (16 -> ~68 % against a trace).
    top = max(float(r["plqy_3d"]) for r in rows)
    iso = max(float(r["plqy_isolated"]) for r in rows)
    assert top > 0.6 and iso < 0.25


def test_fit_csv_quick_recovers_the_example(run_quick):
    out = run_quick("fit_csv")
    result = json.loads((out / "fit.json").read_text())
    assert result["rmse_plqy"] < 0.03  # the example's noise is 2 % of the PLQY
    assert (out / "example.csv").exists()


def test_kinetics_arrhenius_quick(run_quick):
    out = run_quick("kinetics_arrhenius")
    kin = json.loads((out / "kinetics.json").read_text())
    assert kin["law"] == "pso" and len(kin["rate_constants"]) == 3
    k = [r["k"] for r in kin["rate_constants"]]
    assert k == sorted(k)  # faster desorption when hotter
    assert 20 < kin["Ea_kj_mol"] < 70


def test_batched_fit_quick_recovers_every_film(run_quick):
    out = run_quick("batched_fit")
    result = json.loads((out / "fit.json").read_text())
    assert len(result["sample_values"]) == 6
    # 1 % noise on 12 points per step: the fit reaches the noise (0.3-0.7 PLQY points).
    assert result["rmse_plqy"] < 0.01


def test_cycle_study_quick_reaches_the_noise(run_quick):
    """The default-run stand-in of the ten-dataset study (tests/test_auto.py, slow): one of
    its datasets through `jaxnc fit DATA.csv` with no flags, what was freed and why."""
    cycle_study = load_experiment("cycle_study")
    out = run_quick("cycle_study", "--seed", "1")
    (result,) = json.loads((out / "results.json").read_text())
    assert result["exit_code"] == 0
    # The fit reaches the noise floor: RMSE <= 1.5x the 0.5-point noise (the bar).
    assert result["rmse_plqy"] <= 1.5 * cycle_study.NOISE
    choice = result["free_choice"]
    assert choice["free"] and choice["fixed"] and 0.003 < choice["noise_plqy"] < 0.008
    assert choice["noise_estimated"] is True
    assert set(choice["free"]) | set(choice["fixed"]) >= set(cycle_study.RATES) - {
        "k_radiative_per_ns"}


def test_calibration_quick_sets_the_default_set_against_its_targets(run_quick):
    out = run_quick("calibrate_hashimoto2024")
    rows = json.loads((out / "targets.json").read_text())
    assert len(rows) == 13  # 11 PLQY targets and 2 lifetimes
    # The calibration's rms misfit was 0.35 PLQY points; no target is off by more than 1 point
    # (the start-state compromise: isolated +0.56, 2D -0.65) or 0.5 ns.
    for r in rows:
        assert abs(r["model"] - r["paper"]) < (0.5 if "lifetime" in r["target"] else 1.0), r


def test_posterior_coverage_redraws_a_finished_study_without_running_it(tmp_path):
    """The default-run stand-in of the coverage script's --quick run (slow tier, below): the
    run behind docs/uncertainty.md, continued with no datasets left, is only summarised and
    drawn."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "coverage.json").write_text((DOCS / "posterior_coverage.json").read_text())
    script = load_experiment("posterior_coverage")
    figure = tmp_path / "coverage.png"
    assert script.main(["--out", str(out), "--figure", str(figure)]) == 0
    assert figure.read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((out / "coverage.json").read_text())["summary"]
    assert summary["datasets"] == 40  # nothing added
    for name in script.FREE:
        assert 0.80 <= summary[name]["coverage90"] <= 0.97  # the issue-16 bar, as recorded


# The lab session's --quick run (~35 s: the session fitted with free="auto") is in the slow
# tier; its default-run stand-in is tests/test_lab_fit.py: the script's files read back and
# joined, and the joint fit of counts, PLQY, lifetimes and spectra.
@pytest.mark.slow  # ~60 s: the whole session fitted with free="auto"
def test_lab_session_quick(run_quick):
    out = run_quick("lab_session")
    fit = json.loads((out / "fit.json").read_text())
    assert set(fit["goodness"]) == {"plqy", "intensity", "spectrum"}
    # Noise estimated from ~40-90 differences scatters by 12-17 % (its spread, measured on
    # white noise), so the reduced chi-square by twice that about 1.
    for kind in ("intensity", "spectrum"):
        assert 0.5 < fit["goodness"][kind]["reduced_chi2"] < 1.6, kind
    c, sd = fit["collection_factor"]["film"], fit["collection_factor_stderr"]["film"]
    assert abs(c - 2e-10) < 3 * sd


# The two sampler scripts' --quick runs (~55 s each: the NUTS program's compilation) are in
# the slow tier. Their default-run stand-ins: the coverage script redrawing its finished
# study (above), and tests/test_sample.py and tests/test_profile.py, which run `sample` and
# `profile` through the solver.
@pytest.mark.slow
def test_posterior_coverage_quick(run_quick):
    out = run_quick("posterior_coverage")
    runs = json.loads((out / "coverage.json").read_text())["runs"]
    assert len(runs) == 2
    for run in runs:
        for p in run["parameters"].values():
            assert 0 < p["ci90"][0] < p["median"] < p["ci90"][1]


@pytest.mark.slow
def test_uncertainty_nonlinear_quick(run_quick):
    out = run_quick("uncertainty_nonlinear")
    n = json.loads((out / "numbers.json").read_text())
    # Fixed seed: the truth lies inside the profile interval (as in the full run).
    lo, hi = n["profile_ci95"]
    assert lo < n["true"] < hi and lo < n["fit"] < hi
    assert n["posterior_ci95"][0] < n["posterior_median"] < n["posterior_ci95"][1]


def test_paper_reproduction_quick_writes_the_table_and_figures(run_quick):
    """`jaxnc reproduce hashimoto2024` (mean-field), run by the gallery script."""
    out = run_quick("paper_reproduction")
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
