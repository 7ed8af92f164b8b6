"""The command line's caches (`jaxnc._cache`): where they live, that a second process loads
what the first stored, and that failures still surface when equinox's checks return NaN."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from jaxnc import _cache


def test_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("JAXNC_CACHE_DIR", str(tmp_path / "c"))
    assert _cache.cache_dir() == tmp_path / "c"
    monkeypatch.setenv("JAXNC_CACHE_DIR", "off")
    assert _cache.cache_dir() is None
    monkeypatch.delenv("JAXNC_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _cache.cache_dir() == tmp_path / "xdg" / "jaxnc"


@pytest.fixture(scope="module")
def small_curve(tmp_path_factory):
    """A short light/dark PLQY curve (a rise and a decay; the fit need not be good)."""
    path = tmp_path_factory.mktemp("cache") / "curve.csv"
    t = np.r_[np.linspace(0, 2, 5), np.linspace(4, 30, 6)]
    light = (t <= 2).astype(int)
    plqy = np.where(light == 1, 0.16 + 0.3 * (1 - np.exp(-t)), 0.35 - 0.004 * (t - 2))
    rows = "\n".join(f"{a},{b:.5f},{c}" for a, b, c in zip(t, plqy, light, strict=True))
    path.write_text("time_h,plqy,light\n" + rows + "\n")
    return path


def _jaxnc(args, cache):
    env = dict(os.environ, JAXNC_CACHE_DIR=str(cache))
    env.pop("EQX_ON_ERROR", None)  # the command line's own default (nan) applies
    return subprocess.run([sys.executable, "-m", "jaxnc", *args], capture_output=True,
                          text=True, env=env, timeout=600)


FIT = ["--nx", "2", "--ny", "2", "--nz", "2", "--max-iter", "3", "--quiet"]


def test_a_second_process_loads_the_stored_program(small_curve, tmp_path):
    cache = tmp_path / "cache"
    outs = [tmp_path / "first.json", tmp_path / "second.json"]
    r = _jaxnc(["fit", str(small_curve), "--out", str(outs[0]), *FIT], cache)
    assert r.returncode == 0, r.stderr[-2000:]
    stored = sorted((cache / "programs").iterdir())
    assert len(stored) == 1 and list((cache / "xla").iterdir())
    r = _jaxnc(["fit", str(small_curve), "--out", str(outs[1]), *FIT], cache)
    assert r.returncode == 0, r.stderr[-2000:]
    # The same key in a new process (nothing new stored), and the loaded program computes
    # what the traced one did, bit for bit.
    assert sorted((cache / "programs").iterdir()) == stored
    first, second = (json.loads(p.read_text()) for p in outs)
    assert first["values"] == second["values"] and first["loss"] == second["loss"]


def test_a_failed_solve_is_reported_from_its_result_code(small_curve, tmp_path):
    # EQX_ON_ERROR=nan (the command line's mode) turns runtime checks into NaN; the failure
    # must still come out as one line naming the sample, the step and the solver's reason.
    out = tmp_path / "fit.json"
    r = _jaxnc(["fit", str(small_curve), "--out", str(out), "--max-steps", "2", *FIT],
               tmp_path / "cache")
    assert r.returncode == 2
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "maximum number of solver steps" in err and "protocol step 1" in err
    assert not out.exists()
