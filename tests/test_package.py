"""What importing jaxnc does to the process it is imported into, and the names it offers."""

import subprocess
import sys
import types

import jaxnc

LAYERS = ("jaxnc.runtime", "jaxnc.geometry", "jaxnc.parameters", "jaxnc.protocol",
          "jaxnc.physics", "jaxnc.models", "jaxnc.solve", "jaxnc.data", "jaxnc.analysis",
          "jaxnc.fitting", "jaxnc.inference", "jaxnc.design", "jaxnc.plot", "jaxnc.papers",
          "jaxnc.cli")


def test_import_changes_only_the_documented_global_state_and_names_keep_their_meaning():
    # A notebook or an application owns matplotlib's backend: jaxnc draws on Figure objects
    # of its own and never selects a backend or imports pyplot. The one documented change
    # (README, jaxnc/__init__.py) is float64, which the kinetics need. In a fresh process:
    # `jaxnc.fit` is the fitting function whether its package is imported before or after,
    # and no module's class is swapped to make it so.
    script = (
        "import matplotlib; matplotlib.use('svg'); "
        "import types, jaxnc; f = jaxnc.fit; "
        f"import sys, jax, {', '.join(LAYERS)}; "
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend(); "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'; "
        "assert jax.numpy.zeros(1).dtype == 'float64'; "
        "assert callable(jaxnc.fit) and jaxnc.fit is f and jaxnc.fit is jaxnc.fitting.fit; "
        "assert isinstance(jaxnc.fitting, types.ModuleType); "
        "assert jaxnc.data.Dataset is jaxnc.Dataset; "
        "assert type(jaxnc) is types.ModuleType"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]


def test_every_top_level_name_resolves():
    for name in jaxnc.__all__:
        assert getattr(jaxnc, name) is not None, name
    assert type(jaxnc) is types.ModuleType
    assert callable(jaxnc.fit) and callable(jaxnc.kinetics) and callable(jaxnc.sample)
    assert callable(jaxnc.profile) and callable(jaxnc.simulate) and callable(jaxnc.sweep)
    assert jaxnc.distributed.initialize is not None  # the runtime module by its earlier name
