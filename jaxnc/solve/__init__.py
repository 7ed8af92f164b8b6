"""Solve layer: `simulate()` and its `Solution`."""

from ._simulate import SolverSettings, simulate
from ._solution import Solution

__all__ = ["simulate", "Solution", "SolverSettings"]
