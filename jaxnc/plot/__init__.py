"""Plot layer: matplotlib figures."""

from ._plots import plot_solutions

__all__ = ["plot_solutions"]
