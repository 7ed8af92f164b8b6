"""jaxnc: a differentiable JAX model of light-driven, reversible PL enhancement in CsPbBr3
nanocube assemblies (Hashimoto et al., Nanoscale Adv. 2024, 6, 5563).

    import jaxnc
    asm = jaxnc.Assembly.supercrystal(nx=8, ny=8, nz=4)
    sol = jaxnc.simulate(asm, jaxnc.Parameters.hashimoto2024(), "light 468nm 3h; dark 600h")

Importing jaxnc turns on JAX float64 (`jax_enable_x64`): the kinetics span seconds to
hundreds of hours and the ligand budget is checked to 1e-9.
"""

import jax

jax.config.update("jax_enable_x64", True)

from ._errors import (  # noqa: E402
    DataError,
    JaxncError,
    ParameterError,
    ProtocolError,
    SolverError,
)
from .design import optimize_design, sweep  # noqa: E402
from .fit import Dataset, FitResult, fit, kinetics  # noqa: E402
from .geometry import Assembly  # noqa: E402
from .models import FieldModel, MeanFieldModel  # noqa: E402
from .parameters import Parameters  # noqa: E402
from .protocol import Protocol, Step  # noqa: E402
from .solve import Solution, simulate  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Assembly",
    "Parameters",
    "Protocol",
    "Step",
    "simulate",
    "Dataset",
    "fit",
    "FitResult",
    "kinetics",
    "sweep",
    "optimize_design",
    "Solution",
    "FieldModel",
    "MeanFieldModel",
    "JaxncError",
    "ParameterError",
    "ProtocolError",
    "SolverError",
    "DataError",
]
