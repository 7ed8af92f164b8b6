"""Solve layer: `simulate()` and its `Solution`; the terms, the Rosenbrock-W solvers and their
tableaux, the one integrate loop (states alone or with forward sensitivities), solver
settings and result codes."""

from ._integrate import DT0_H, integrate, solve_at, solve_sensitivities_at, step_drives
from ._results import message as result_message
from ._rosenbrock import (
    ROS2AF,
    ROS34PW2,
    ROS34PW2AF,
    AbstractFactorizedRosenbrock,
    AbstractRosenbrockW,
)
from ._settings import (
    SOLVERS,
    SolverSettings,
    default_solver,
    default_tolerances,
    kvaerno5_solver,
    resolve_solver,
    solver_settings,
)
from ._simulate import simulate
from ._solution import Solution, spectrum_of_state
from ._tableaux import ROS2_TABLEAU, ROS34PW2_TABLEAU, RosenbrockTableau
from ._terms import ModelTerm, SensitivityTerm, linearise

__all__ = ["simulate", "Solution", "SolverSettings", "solver_settings", "SOLVERS",
           "default_solver", "kvaerno5_solver", "default_tolerances", "resolve_solver",
           "AbstractRosenbrockW", "ROS34PW2", "ROS34PW2AF", "ROS2AF",
           "AbstractFactorizedRosenbrock", "RosenbrockTableau", "ROS34PW2_TABLEAU",
           "ROS2_TABLEAU", "ModelTerm", "SensitivityTerm", "linearise", "integrate", "solve_at",
           "solve_sensitivities_at", "step_drives", "DT0_H", "spectrum_of_state",
           "result_message"]
