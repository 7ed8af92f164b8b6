"""jaxnc: a differentiable JAX model of light-driven, reversible PL enhancement in CsPbBr3
nanocube assemblies (Hashimoto et al., Nanoscale Adv. 2024, 6, 5563).

    import jaxnc
    asm = jaxnc.Assembly.supercrystal(nx=8, ny=8, nz=4)
    sol = jaxnc.simulate(asm, jaxnc.Parameters.hashimoto2024(), "light 468nm 3h; dark 600h")

Importing jaxnc turns on JAX float64 (`jax_enable_x64`) for the whole process: the kinetics
span seconds to hundreds of hours and the ligand budget is checked to 1e-9, which float32
cannot carry. It changes no other global state (no matplotlib backend, no equinox error
mode); the command line also switches on the caches of `jaxnc.runtime`.

The public names below load their layer on first use, so `import jaxnc` (and the command
line's `--help` and argument errors) does not pay for importing every layer.
"""

import importlib

import jax

jax.config.update("jax_enable_x64", True)

from .errors import (  # noqa: E402
    DataError,
    JaxncError,
    ParameterError,
    ProtocolError,
    ResourceError,
    SolverError,
)

__version__ = "0.1.0"

# Public name -> the module that defines it, imported on first access (PEP 562). The layers'
# packages (`jaxnc.solve`, `jaxnc.fitting`, ...) are imported as usual: `import jaxnc.fitting`.
_LAZY = {
    "Assembly": ".geometry",
    "Parameters": ".parameters",
    "Protocol": ".protocol",
    "Step": ".protocol",
    "simulate": ".solve",
    "Solution": ".solve",
    "Dataset": ".data",
    "fit": ".fitting",
    "FitResult": ".fitting",
    "profile": ".fitting",
    "kinetics": ".analysis",
    "sample": ".inference",
    "sweep": ".design",
    "optimize_design": ".design",
    "FieldModel": ".models",
    "MeanFieldModel": ".models",
    "distributed": ".runtime",  # the module jaxnc.runtime.distributed, by its earlier name
}

__all__ = [*_LAZY, "JaxncError", "ParameterError", "ProtocolError", "SolverError",
           "DataError", "ResourceError"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'jaxnc' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
