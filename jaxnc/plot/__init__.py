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

__all__ = ["plot_solutions", "plot_arrhenius", "plot_fit", "plot_profile", "plot_reproduction",
           "plot_sweep", "plot_sweep_layers", "check_plot_path"]
