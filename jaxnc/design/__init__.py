"""Design layer: vmapped, sharded sweeps of assembly geometry and gradient-based design search.

`sweep` maps design metrics (activation, retention, dark half-life, cycle repeatability,
ligand loss) and their exact gradients with respect to gap and ligand length over a grid;
`optimize_design` searches for the geometry that maximises an objective under constraints.
"""

from ._assemblies import film
from ._constraints import Constraint
from ._grid import parse_grid
from ._metrics import (
    DEFAULT_METRICS,
    METRICS,
    Goal,
    Metric,
    check_metrics,
    evaluate,
    supported_metrics,
)
from ._optimize import DEFAULT_BOUNDS, DesignResult, optimize_design
from ._readout import EXTRAPOLATED, OK, UNDEFINED, Reading, save_grid
from ._result import SweepResult
from ._sweep import DEFAULT_PROTOCOL, sweep

__all__ = ["sweep", "SweepResult", "film", "parse_grid", "DEFAULT_PROTOCOL", "METRICS",
           "DEFAULT_METRICS", "Metric", "Goal", "Reading", "evaluate", "check_metrics",
           "supported_metrics", "save_grid", "OK", "EXTRAPOLATED", "UNDEFINED",
           "optimize_design", "DesignResult", "Constraint", "DEFAULT_BOUNDS"]
