"""What importing jaxnc does to the process it is imported into."""

import subprocess
import sys


def test_import_changes_only_the_documented_global_state():
    # A notebook or an application owns matplotlib's backend: jaxnc draws on Figure objects
    # of its own and never selects a backend or imports pyplot. The one documented change
    # (README, jaxnc/__init__.py) is float64, which the kinetics need.
    script = (
        "import matplotlib; matplotlib.use('svg'); "
        "import jaxnc, jaxnc.plot, jaxnc.cli, jaxnc.design, jaxnc.fit, sys, jax; "
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend(); "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'; "
        "assert jax.numpy.zeros(1).dtype == 'float64'"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
