"""Figures of design sweeps: metric maps over gap x ligand length with gradient arrows, and
metrics against layer count."""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from ._figure import save_figure, subplots

__all__ = ["plot_sweep", "plot_sweep_layers"]

_LABELS = {
    "plqy_activated": "PLQY after light (%)",
    "t90_activation_h": "t90 of activation (h)",
    "plqy_retained": "PLQY after dark (%)",
    "dark_half_life_h": "dark half-life (h)",
    "cycle_repeatability": "cycle-to-cycle max change (points)",
    "ligand_lost_fraction": "ligand lost (%)",
}
# Fractions are shown in percent (points); their gradients scale alike.
_PERCENT = {"plqy_activated", "plqy_retained", "cycle_repeatability", "ligand_lost_fraction"}


def _slice(result, at: dict | None):
    """Index selecting one gap x ligand plane: other axes at `at` (nearest) or their first."""
    at = dict(at or {})
    index, notes = [], []
    for name, values in result.axes.items():
        if name in ("gap_nm", "ligand_nm"):
            index.append(slice(None))
            continue
        target = at.get(name, values[0])
        k = int(np.argmin(np.abs(np.asarray(values, dtype=float) - float(target))))
        index.append(k)
        notes.append(f"{name} = {values[k]:g}")
    return tuple(index), ", ".join(notes)


def plot_sweep(result, path, *, metrics=None, optimum: dict | None = None,
               at: dict | None = None, title: str | None = None) -> None:
    """Heatmaps of sweep metrics over gap (x) and ligand length (y).

    Arrows show each metric's gradient (direction of increase, length relative to the largest
    in the panel), a star the best grid point for that metric's goal, and a white circle
    `optimum` (e.g. `DesignResult.optimum`) when given. Failed points are blank.

    **Arguments:**

    - `result`: a `SweepResult`; `path`: image file.
    - `metrics`: names to draw (default all of the sweep's).
    - `optimum`: `{"gap_nm": ..., "ligand_nm": ...}` to mark.
    - `at`: values of other swept axes (`layers`, ...) for the plane shown (default first).
    """
    metrics = list(result.metrics if metrics is None else metrics)
    for m in metrics:
        if m not in result.values:
            raise ParameterError(f"{m!r} is not a metric of this sweep")
    index, note = _slice(result, at)
    gap, lig = np.asarray(result.axes["gap_nm"]), np.asarray(result.axes["ligand_nm"])
    fig, axes = _panels(len(metrics), 4.6, 3.8)
    for ax, m in zip(axes.ravel(), metrics, strict=False):
        _map_panel(fig, ax, result, m, index, gap, lig, optimum)
    _legend(fig, axes, result, optimum, title, note)
    save_figure(fig, path)


def _map_panel(fig, ax, result, m, index, gap, lig, optimum) -> None:
    """One metric's heatmap over gap and ligand length: its gradient arrows, the grid best,
    the optimum and the model's two switches."""
    scale = 100.0 if m in _PERCENT else 1.0
    z = scale * np.asarray(result.values[m], dtype=float)[index].T  # (ligand, gap)
    finite = np.isfinite(z)
    if m == "dark_half_life_h" and finite.any() and np.nanmax(z) > 10 * np.nanmin(z[z > 0]):
        from matplotlib.colors import LogNorm

        norm = LogNorm(vmin=np.nanmin(z[z > 0]), vmax=np.nanmax(z))
    else:
        norm = None
    mesh = ax.pcolormesh(gap, lig, np.ma.masked_invalid(z), shading="nearest",
                         cmap="viridis", norm=norm)
    fig.colorbar(mesh, ax=ax, label=_LABELS.get(m, m))
    _gradient_arrows(ax, result, m, index, gap, lig, scale)
    best = None
    if finite.any():
        best = np.nanargmax(_goal(m).score(z))
        j, i = np.unravel_index(best, z.shape)
        ax.plot(gap[i], lig[j], marker="*", ms=14, color="#ff4b3a", mec="k",
                label="grid best")
    if optimum is not None:
        ax.plot(optimum["gap_nm"], optimum["ligand_nm"], marker="o", ms=9, mfc="none",
                mec="white", mew=2, label="optimum")
    params = result.settings.get("params", {})
    if "steric_free_nm" in params:  # half-way lines of the two switches of the model
        ax.plot(gap, gap - params["steric_free_nm"], color="w", lw=0.9, ls="--",
                label="steric: gap - ligand = {:g} nm".format(params["steric_free_nm"]))
    if "confinement_margin_nm" in params:
        ax.plot(gap, (gap - params["confinement_margin_nm"]) / 2.0, color="w", lw=0.9,
                ls=":", label="open: gap - 2 ligand = {:g} nm".format(
                    params["confinement_margin_nm"]))
    ax.set_xlim(gap.min() - _step(gap) / 2, gap.max() + _step(gap) / 2)
    ax.set_ylim(lig.min() - _step(lig) / 2, lig.max() + _step(lig) / 2)
    ax.set_xlabel("gap (nm)")
    ax.set_ylabel("ligand length (nm)")
    ax.set_title(f"{m} (star: grid best {z.flat[best]:.3g})" if finite.any() else m,
                 fontsize=9)


def _gradient_arrows(ax, result, m, index, gap, lig, scale) -> None:
    """Directions of the gradient (magnitudes span decades across the switches) on a
    thinned grid."""
    dg = scale * np.asarray(result.gradients.get(f"d_{m}_d_gap_nm", np.nan))
    dl = scale * np.asarray(result.gradients.get(f"d_{m}_d_ligand_nm", np.nan))
    if not dg.ndim:
        return
    dg, dl = dg[index].T, dl[index].T
    si, sj = max(1, len(gap) // 12), max(1, len(lig) // 8)
    gx, ly = np.meshgrid(gap[::si], lig[::sj])
    u, v = dg[::sj, ::si], dl[::sj, ::si]
    cell_g, cell_l = _step(gap) * si, _step(lig) * sj
    size = np.hypot(u / cell_g, v / cell_l)  # in cells of the thinned grid
    keep = np.isfinite(size) & (size > 0)
    if keep.any():
        size = np.where(keep, size, 1.0)
        ax.quiver(gx[keep], ly[keep], (0.7 * u / size)[keep], (0.7 * v / size)[keep],
                  color="white", alpha=0.85, angles="xy", scale_units="xy", scale=1.0,
                  width=0.005)


def _legend(fig, axes, result, optimum, title, note) -> None:
    """The figure's legend (grid best, optimum, the switches) and heading."""
    from matplotlib.lines import Line2D

    proxies = [Line2D([], [], marker="*", ms=12, color="#ff4b3a", mec="k", ls="none")]
    texts = ["grid best for the metric's goal"]
    if optimum is not None:
        proxies.append(Line2D([], [], marker="o", ms=8, mfc="none", mec="k", mew=2, ls="none"))
        texts.append("optimum")
    for label in axes.ravel()[0].get_legend_handles_labels()[1]:
        if label.startswith(("steric", "open")):
            proxies.append(Line2D([], [], color="k", ls="--" if label.startswith("steric")
                                  else ":"))
            texts.append(label)
    settings = result.settings
    heading = title or f"{settings.get('model', '')} sweep: {settings.get('protocol', '')}"
    fig.suptitle(heading + (f" ({note})" if note else "") + "\narrows: gradient (uphill); "
                 "dashed: desorption half hindered; dotted: nanospace half open", fontsize=9)
    fig.legend(proxies, texts, loc="lower center", ncol=len(texts), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.04, 1, 1))


def plot_sweep_layers(result, path, *, metrics=None, points: dict | None = None) -> None:
    """Metrics against layer count at a few (gap, ligand) points of a sweep with `layers`.

    **Arguments:**

    - `points`: `{label: (gap_nm, ligand_nm)}` (nearest grid points); default the grid point
      nearest the paper's 3.0 / 1.6 nm and the grid best of the first metric at the first
      layer count.
    """
    if "layers" not in result.axes:
        raise ParameterError("plot_sweep_layers needs a sweep over layers")
    metrics = list(result.metrics if metrics is None else metrics)
    names = list(result.axes)
    gap, lig = np.asarray(result.axes["gap_nm"]), np.asarray(result.axes["ligand_nm"])
    layers = np.asarray(result.axes["layers"])
    if points is None:
        i, j = int(np.argmin(np.abs(gap - 3.0))), int(np.argmin(np.abs(lig - 1.6)))
        points = {f"nearest the paper's 3.0 / 1.6 nm ({gap[i]:.2f} / {lig[j]:.2f} nm)":
                  (gap[i], lig[j])}
        first = metrics[0]
        plane = np.take(np.asarray(result.values[first]), 0, axis=names.index("layers"))
        plane = plane.reshape(len(gap), len(lig), -1)[..., 0]
        if np.isfinite(plane).any():
            k = np.nanargmax(_goal(first).score(plane))
            i, j = np.unravel_index(k, plane.shape)
            points[f"best {first} ({gap[i]:.2f} / {lig[j]:.2f} nm)"] = (gap[i], lig[j])
    fig, axes = _panels(len(metrics), 4.4, 3.3)
    for ax, m in zip(axes.ravel(), metrics, strict=False):
        scale = 100.0 if m in _PERCENT else 1.0
        for label, (g, lg) in points.items():
            i = int(np.argmin(np.abs(gap - g)))
            j = int(np.argmin(np.abs(lig - lg)))
            sel = [slice(None) if n == "layers" else 0 for n in names]
            sel[names.index("gap_nm")], sel[names.index("ligand_nm")] = i, j
            ax.plot(layers, scale * np.asarray(result.values[m])[tuple(sel)], marker="o",
                    label=label)
        ax.set_xscale("log", base=2)
        ax.set_xticks(layers, [str(v) for v in layers])
        ax.set_xlabel("layers")
        ax.set_ylabel(_LABELS.get(m, m))
        ax.grid(alpha=0.3)
    axes.ravel()[0].legend(fontsize=7)
    fig.suptitle(f"{result.settings.get('model', '')} sweep over film thickness: "
                 f"{result.settings.get('protocol', '')}", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def _panels(n: int, width_in: float, height_in: float):
    """A figure with `n` panels, three per row, each `width_in` x `height_in` inches."""
    cols = min(3, n)
    rows = -(-n // cols)
    fig, axes = subplots(rows, cols, figsize=(width_in * cols, height_in * rows),
                             squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes


def _step(values) -> float:
    values = np.asarray(values, dtype=float)
    return float(np.min(np.diff(values))) if values.size > 1 else 0.5


def _goal(metric: str):
    """The metric's `Goal` (a column that is no metric, e.g. a gradient: the larger)."""
    from ..design import METRICS, Goal

    return METRICS[metric].goal if metric in METRICS else Goal.MAX
