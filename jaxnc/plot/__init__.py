"""Plot layer: matplotlib figures."""

from ._design import plot_sweep, plot_sweep_layers
from ._plots import (
    check_plot_path,
    plot_arrhenius,
    plot_fit,
    plot_profile,
    plot_reproduction,
    plot_solutions,
)
from ._posterior import plot_corner, plot_trace

__all__ = ["plot_solutions", "plot_arrhenius", "plot_fit", "plot_profile", "plot_reproduction",
           "plot_sweep", "plot_sweep_layers", "check_plot_path", "plot_corner", "plot_trace"]
