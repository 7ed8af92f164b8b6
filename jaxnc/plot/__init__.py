"""Plot layer: matplotlib figures (on `Figure` objects, no pyplot state), written whole or not
at all; the helpers they are drawn with, for figures of one's own."""

from ._curves import draw_arrhenius, plot_arrhenius, plot_profile, plot_solutions
from ._design import plot_sweep, plot_sweep_layers
from ._figure import check_plot_path, new_figure, save_figure, shade_light_steps, subplots
from ._fit import plot_fit
from ._posterior import plot_corner, plot_trace

__all__ = ["plot_solutions", "plot_arrhenius", "draw_arrhenius", "plot_fit", "plot_profile",
           "plot_sweep", "plot_sweep_layers", "check_plot_path", "plot_corner", "plot_trace",
           "new_figure", "subplots", "save_figure", "shade_light_steps"]
