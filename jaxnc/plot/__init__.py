"""Plot layer: matplotlib figures."""

from ._plots import check_plot_path, plot_arrhenius, plot_fit, plot_reproduction, plot_solutions

__all__ = ["plot_solutions", "plot_arrhenius", "plot_fit", "plot_reproduction",
           "check_plot_path"]
