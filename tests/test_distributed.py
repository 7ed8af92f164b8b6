"""Several processes, one run (jaxnc.distributed): settings, the meeting before JAX's, and
(slow tier) real two-process runs on localhost. The fit's sharded path in one process, their
cheaper stand-in, is in test_fit.py (it shares that file's compiled program)."""

import csv
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import free_port

import jaxnc
from jaxnc.runtime import distributed


@pytest.mark.parametrize("kwargs, match", [
    (dict(coordinator="localhost:1234", num_processes=2), "all of coordinator"),
    (dict(coordinator="localhost", num_processes=2, process_id=0), "host:port"),
    (dict(coordinator="localhost:1234", num_processes=2, process_id=2), r"0\.\.1"),
    (dict(coordinator="localhost:1234", num_processes=0, process_id=0), ">= 1"),
    (dict(coordinator="localhost:1234", num_processes="two", process_id=0), "integer"),
    (dict(coordinator="localhost:1234", num_processes=2, process_id=0, timeout_s=0), "> 0"),
])
def test_impossible_settings_are_refused_before_anything_starts(kwargs, match):
    with pytest.raises(jaxnc.ParameterError, match=match):
        distributed.initialize(**kwargs)
    assert not distributed.started()


def test_command_line_without_settings_or_cluster_is_bad_input(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM", "OMPI", "PMI"))}
    run = subprocess.run([sys.executable, "-m", "jaxnc", "sweep", "--distributed", "--out",
                          str(tmp_path / "s.csv")], capture_output=True, text=True, env=env,
                         timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [run.stderr.strip()]  # one line, no traceback
    assert "no coordinator given and no cluster detected" in run.stderr


# ---- slow tier: real processes on localhost (each compiles its programs: ~1 min each) ----

def _sweep(gaps="2:4:5", chunk="4"):
    return ["sweep", "--gap-nm", gaps, "--ligand-nm", "1.6,2.4", "--nx", "4", "--ny", "4",
            "--nz", "2", "--chunk-size", chunk, "--vector-width", "1", "--quiet"]


# Two groups (sample s1 on isolated cubes), the other's rows not contiguous (0, 2, 3, 4), and
# 4 samples over 2 devices: the placement of each sample's Jacobian columns is exercised.
FIT = ["fit", "DATA", "--free", "k_adsorption_per_h,k_desorption_per_h", "--per-sample",
       "coverage_initial", "--starts", "1", "--nx", "4", "--ny", "4", "--nz", "2",
       "--assembly-of", "s1=isolated", "--n", "4", "--quiet"]


def _launch(args, n, port, timeout_s=60):
    return [subprocess.Popen([sys.executable, "-m", "jaxnc", *args, "--coordinator",
                              f"localhost:{port}", "--num-processes", str(n), "--process-id",
                              str(i), "--timeout-s", str(timeout_s)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for i in range(n)]


def _rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def _assert_same_numbers(a, b, rtol=1e-12):
    """Every number in two JSON-like trees equal to `rtol` (timings apart), the rest equal."""
    if isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            if k not in ("wall_s", "first_chunk_s"):
                _assert_same_numbers(a[k], b[k], rtol)
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same_numbers(x, y, rtol)
    elif isinstance(a, float):
        assert _close(a, b, rtol), (a, b)
    else:
        assert a == b


def _close(a, b, rtol):
    return (np.isnan(a) and np.isnan(b)) or abs(a - b) <= rtol * max(abs(a), abs(b), 1e-300)


@pytest.mark.slow
def test_two_processes_write_what_one_writes(tmp_path):
    from jaxnc.data import synthetic_dataset

    p = jaxnc.Parameters.hashimoto2024()
    samples = {f"s{i}": p.replace(coverage_initial=0.1 + 0.05 * i) for i in range(5)}
    sc = jaxnc.Assembly.supercrystal(4, 4, 2)
    assemblies = {s: jaxnc.Assembly.isolated(4) if s == "s1" else sc for s in samples}
    synthetic_dataset(assemblies, samples, {s: "light 3h; dark 100h" for s in samples},
                      saves_per_step=11, seed=1).to_csv(tmp_path / "data.csv")
    fit = [str(tmp_path / "data.csv") if a == "DATA" else a for a in FIT]
    for args, name in ((_sweep(), "sweep.csv"), (fit, "fit.json")):
        one = subprocess.run([sys.executable, "-m", "jaxnc", *args, "--out",
                              str(tmp_path / f"one_{name}")], capture_output=True, text=True)
        assert one.returncode == 0, one.stderr
        procs = _launch([*args, "--out", str(tmp_path / f"two_{name}")], 2, free_port())
        for proc in procs:
            proc.wait(timeout=600)
            assert proc.returncode == 0, proc.stderr.read()
        if name == "sweep.csv":
            a, b = _rows(tmp_path / f"one_{name}"), _rows(tmp_path / f"two_{name}")
            assert len(a) == len(b) == 10  # chunks of 4, 4 and 2 (padded to 4)
            for ra, rb in zip(a, b, strict=True):
                assert ra["status"] == rb["status"]
                _assert_same_numbers({k: float(v) for k, v in ra.items() if k != "status"
                                      and k != "reason" and v != ""},
                                     {k: float(v) for k, v in rb.items() if k != "status"
                                      and k != "reason" and v != ""})
        else:
            a = json.loads((tmp_path / f"one_{name}").read_text())
            b = json.loads((tmp_path / f"two_{name}").read_text())
            _assert_same_numbers(a["values"], b["values"])
            _assert_same_numbers(a["sample_values"], b["sample_values"])
            _assert_same_numbers(a["stderr"], b["stderr"])
            assert a["iterations"] == b["iterations"]


@pytest.mark.slow
def test_a_killed_process_is_one_error_and_a_rerun_resumes(tmp_path):
    out = tmp_path / "s.csv"
    args = [*_sweep(gaps="2:4:16", chunk="2"), "--out", str(out)]
    procs = _launch(args, 2, free_port(), timeout_s=20)
    ckpt = tmp_path / "s.csv.partial.npz"
    deadline = time.monotonic() + 300
    while not ckpt.exists() and time.monotonic() < deadline:  # a chunk is done
        time.sleep(0.2)
    procs[1].kill()
    killed = time.monotonic()
    procs[0].wait(timeout=60)
    err = procs[0].stderr.read()
    assert time.monotonic() - killed < 20 + 12  # the 20 s timeout; 12 s for a loaded machine
    assert procs[0].returncode == 1
    lines = [x for x in err.splitlines() if x.startswith("jaxnc:")]
    assert len(lines) == 1 and "another process stopped answering" in lines[0], err
    assert "Traceback" not in err
    assert not out.exists() and ckpt.exists()
    done = int(np.load(ckpt)["done"].sum())
    assert 0 < done < 32
    rerun = subprocess.run([sys.executable, "-m", "jaxnc", *args, "--resume"],
                           capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert len(_rows(out)) == 32 and not ckpt.exists()
