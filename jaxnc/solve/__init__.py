"""Solve layer: `simulate()` and its `Solution`; the solvers it uses."""

from ._rosenbrock import ROS34PW2
from ._simulate import (
    SolverSettings,
    default_solver,
    default_tolerances,
    resolve_solver,
    simulate,
)
from ._solution import Solution
from ._split import ROS2AF, ROS34PW2AF, AbstractFactorizedRosenbrock
from ._term import ModelTerm

__all__ = ["simulate", "Solution", "SolverSettings", "ROS2AF", "ROS34PW2AF", "ROS34PW2",
           "AbstractFactorizedRosenbrock", "ModelTerm", "default_solver",
           "default_tolerances", "resolve_solver"]
