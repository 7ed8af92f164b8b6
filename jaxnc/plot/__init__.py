"""Plot layer: matplotlib figures."""

from ._plots import plot_arrhenius, plot_solutions

__all__ = ["plot_solutions", "plot_arrhenius"]
