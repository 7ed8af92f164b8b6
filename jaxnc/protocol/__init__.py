"""Protocol layer: fixed-duration light and dark steps, parsed from text or built in code."""

from ._protocol import GRAMMAR, Protocol, Step, StepArrays

__all__ = ["Protocol", "Step", "StepArrays", "GRAMMAR"]
