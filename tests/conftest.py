import atexit
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

# The suite is the CPU reference: tests compare device counts (a sharded sweep on 4 host
# devices against 1) and results to round-off, so they pin the CPU platform even on a machine
# with a GPU. Subprocesses inherit it.
os.environ["JAX_PLATFORMS"] = "cpu"
# Command-line subprocesses keep their caches in a folder of this run, never the user's.
os.environ["JAXNC_CACHE_DIR"] = tempfile.mkdtemp(prefix="jaxnc-test-cache-")
atexit.register(shutil.rmtree, os.environ["JAXNC_CACHE_DIR"], ignore_errors=True)

import jax  # noqa: E402
import pytest  # noqa: E402

import jaxnc  # noqa: E402

jax.config.update("jax_enable_x64", True)


@pytest.fixture(scope="session")
def params():
    return jaxnc.Parameters.hashimoto2024()


EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


def free_port() -> int:
    """A TCP port that is free, and so is the next one (a distributed run's meeting)."""
    import socket

    import numpy as np

    for _ in range(100):
        port = int(np.random.default_rng().integers(20000, 40000))
        try:
            for p in (port, port + 1):
                with socket.socket() as s:
                    s.bind(("localhost", p))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port pair")


def load_experiment(name: str):
    """`experiments/NAME.py` as a module, run in this process so that the scripts share the
    programs compiled by the tests beside them."""
    if str(EXPERIMENTS) not in sys.path:
        sys.path.insert(0, str(EXPERIMENTS))
    spec = importlib.util.spec_from_file_location(f"experiment_{name}", EXPERIMENTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def run_quick(tmp_path):
    """`run_quick(NAME, *flags)`: `experiments/NAME.py --quick` into tmp_path (never into
    docs/); returns its --out folder, after checking that it exited 0 and drew a PNG."""

    def run(name: str, *extra: str) -> Path:
        figure, out = tmp_path / f"{name}.png", tmp_path / "out"
        assert load_experiment(name).main(["--quick", "--figure", str(figure), "--out",
                                           str(out), *extra]) == 0
        assert figure.read_bytes()[:4] == b"\x89PNG"
        return out

    return run


# `make test` runs two workers, each taking whole files (`--dist loadfile`) in collection
# order. The heaviest files go first (longest-first scheduling), so that the two workers
# finish together instead of one starting a long file when the other is nearly done. Measured
# per-file seconds on 2 cores, most expensive first; unlisted files keep their order after.
HEAVY_FIRST = ("test_gallery.py", "test_design.py", "test_fit.py", "test_split.py",
               "test_lab_fit.py",
               "test_simulate.py", "test_excitons.py", "test_cache.py", "test_gradients.py",
               "test_physics.py", "test_rosenbrock.py", "test_spectra.py", "test_cli.py",
               "test_inference_internals.py", "test_sample.py")
# (2026-12-07, session 9, `--durations=0` under `make test`: 220, 141, 133, 122, 87, 58, 45,
# 39, 31, 29, 28, 15, 15 and 10 s; the rest together ~40 s.)


def pytest_configure(config):
    # pytest-xdist >= 3.6 orders files by their number of tests unless told not to, which put
    # the heaviest files (few, long tests) last: the two workers then finished ~35 s apart.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
