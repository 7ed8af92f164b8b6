import atexit
import os
import shutil
import tempfile

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
