"""`jaxnc fit` as a user runs it, a process of its own with the command line's caches
(`jaxnc.runtime`): where they live, that a second process loads what the first stored, and
that failures still surface when equinox's checks return NaN."""

import json
import os
import subprocess
import sys

import pytest

from jaxnc import runtime

pytestmark = pytest.mark.integration  # whole solves: left out of `make test-quick`


def test_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("JAXNC_CACHE_DIR", str(tmp_path / "c"))
    assert runtime.cache_dir() == tmp_path / "c"
    monkeypatch.setenv("JAXNC_CACHE_DIR", "off")
    assert runtime.cache_dir() is None
    monkeypatch.delenv("JAXNC_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert runtime.cache_dir() == tmp_path / "xdg" / "jaxnc"


@pytest.fixture(scope="module")
def two_curves(tmp_path_factory):
    """Noise-free curves of two samples that differ in their starting coverage."""
    import jaxnc
    from jaxnc.data import synthetic_dataset

    true = jaxnc.Parameters.hashimoto2024()
    params = {"a": true.replace(coverage_initial=0.15), "b": true.replace(coverage_initial=0.3)}
    path = tmp_path_factory.mktemp("cache") / "d.csv"
    synthetic_dataset(jaxnc.Assembly.supercrystal(2, 2, 1), params,
                      {"a": "light 2h; dark 100h", "b": "light 2h; dark 100h"},
                      saves_per_step=11, noise=0.0).to_csv(path)
    return true, path


def _jaxnc(args, cache):
    env = dict(os.environ, JAXNC_CACHE_DIR=str(cache))
    env.pop("EQX_ON_ERROR", None)  # the command line's own default (nan) applies
    return subprocess.run([sys.executable, "-m", "jaxnc", *args], capture_output=True,
                          text=True, env=env, timeout=600)


FIT = ["--nx", "2", "--ny", "2", "--nz", "1", "--free", "k_desorption_per_h", "--per-sample",
       "coverage_initial", "--set", "k_desorption_per_h=0.004", "--starts", "1", "--quiet"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("jaxnc-cache")


def test_fit_command_and_a_second_process_that_loads_the_stored_program(two_curves, cache,
                                                                        tmp_path):
    true, data = two_curves
    outs, png = [tmp_path / "first.json", tmp_path / "second.json"], tmp_path / "fit.png"
    r = _jaxnc(["fit", str(data), "--out", str(outs[0]), "--plot", str(png), *FIT], cache)
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(outs[0].read_text())
    # Noise-free data of the same model: the start (--set, default coverage) comes back to the
    # truth, to the solver's tolerance (rtol 1e-6) amplified by the fit's conditioning.
    assert result["values"]["k_desorption_per_h"] == pytest.approx(
        float(true.k_desorption_per_h), rel=1e-4)
    assert result["sample_values"]["a"]["coverage_initial"] == pytest.approx(0.15, rel=1e-4)
    assert result["sample_values"]["b"]["coverage_initial"] == pytest.approx(0.3, rel=1e-4)
    assert result["columns"] == ["k_desorption_per_h", "coverage_initial[a]",
                                 "coverage_initial[b]"]
    assert png.read_bytes()[:4] == b"\x89PNG"
    stored = sorted((cache / "programs").iterdir())
    assert len(stored) == 1 and list((cache / "xla").iterdir())

    r = _jaxnc(["fit", str(data), "--out", str(outs[1]), *FIT], cache)
    assert r.returncode == 0, r.stderr[-2000:]
    # The same key in a new process (nothing new stored), and the loaded program computes
    # what the traced one did, bit for bit.
    assert sorted((cache / "programs").iterdir()) == stored
    second = json.loads(outs[1].read_text())
    assert second["values"] == result["values"] and second["loss"] == result["loss"]


def test_a_failed_solve_is_reported_from_its_result_code(two_curves, cache, tmp_path):
    # EQX_ON_ERROR=nan (the command line's mode) turns runtime checks into NaN; the failure
    # must still come out as one line naming the sample, the step and the solver's reason.
    # A charge enhancement of 1e300 overflows the adsorption rate (1 + alpha q) as soon as
    # charge appears: inf, then NaN in the solve (ROS34PW2 integrates 1e8 without trouble).
    # The fit's structure is the one above, so its program comes from the cache.
    out = tmp_path / "fit.json"
    r = _jaxnc(["fit", str(two_curves[1]), "--out", str(out), "--set", "charge_enhancement=1e300",
                *FIT], cache)
    assert r.returncode == 1  # valid input, a solver that fails: a runtime failure, not 2
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "(NaN or inf) values appeared" in err and "protocol step 1" in err
    assert not out.exists()
