"""Solve layer: `simulate()` and its `Solution`; the solvers it uses."""

from ._results import message as result_message
from ._rosenbrock import ROS34PW2
from ._sensitivities import solve_sensitivities_at
from ._simulate import (
    SolverSettings,
    default_solver,
    default_tolerances,
    resolve_solver,
    simulate,
    solve_at,
)
from ._solution import Solution, spectrum_of_state
from ._split import ROS2AF, ROS34PW2AF, AbstractFactorizedRosenbrock
from ._term import ModelTerm

__all__ = ["simulate", "Solution", "SolverSettings", "ROS2AF", "ROS34PW2AF", "ROS34PW2",
           "AbstractFactorizedRosenbrock", "ModelTerm", "default_solver",
           "default_tolerances", "resolve_solver", "solve_at", "solve_sensitivities_at",
           "spectrum_of_state", "result_message"]
