"""Figures outside pyplot, written whole or not at all in the format the file name gives; the
helpers every jaxnc figure is drawn with."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..errors import ParameterError
from ..runtime import atomic_path

__all__ = ["check_plot_path", "new_figure", "subplots", "save_figure", "shade_light_steps"]

_FORMATS = ("png", "pdf", "svg")


def check_plot_path(path) -> str:
    """The image format named by `path`'s extension; `ParameterError` if it is not one we write."""
    fmt = str(path).rsplit(".", 1)[-1].lower() if "." in str(path) else ""
    if fmt not in _FORMATS:
        raise ParameterError(f"plot file {str(path)!r}: extension must be one of {_FORMATS}")
    return fmt


def new_figure(**kwargs) -> Figure:
    """A figure outside pyplot: no global backend is chosen or changed, so importing and
    calling jaxnc.plot leaves a notebook's or an application's matplotlib state alone."""
    return Figure(**kwargs)


def subplots(*args, figsize, **kwargs):
    """`(figure, axes)` as `pyplot.subplots` gives them, on a [`new_figure`][]."""
    fig = new_figure(figsize=figsize)
    return fig, fig.subplots(*args, **kwargs)


def save_figure(fig, path) -> None:
    """Save whole or not at all, in the format the file extension names."""
    fmt = check_plot_path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=130, format=fmt)


def shade_light_steps(ax, sol) -> None:
    """Shade the light steps of the `Solution` `sol` on `ax` (time in h on the x axis)."""
    t = np.asarray(sol.time_h)
    for k, kind in enumerate(sol.kinds):
        if kind == "light":
            s = sol.step_slice(k)
            ax.axvspan(t[s][0], t[s][-1], color="#4a7bd1", alpha=0.12, lw=0)
