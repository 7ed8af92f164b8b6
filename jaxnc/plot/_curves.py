"""Figures of curves against time: simulations, profile likelihoods, Arrhenius lines (fits:
`_fit.py`). Files are written whole or not at all."""

from __future__ import annotations

import matplotlib
import numpy as np

from ._figure import new_figure, save_figure, shade_light_steps, subplots

__all__ = ["plot_solutions", "plot_arrhenius", "draw_arrhenius", "plot_profile"]


def plot_solutions(solutions: dict, path, *, title: str | None = None) -> None:
    """PLQY and ligand budget against time for one or more simulations.

    **Arguments:**

    - `solutions`: `{label: Solution}`; all should share one protocol (light steps are shaded
      from the first).
    - `path`: output image (PNG by extension).
    - `title`: optional figure title.
    """
    fig = new_figure(figsize=(9.5, 6.5))
    grid = fig.add_gridspec(2, 3, height_ratios=(2, 1.2))
    ax_pl = fig.add_subplot(grid[0, :2])
    ax_zoom = fig.add_subplot(grid[0, 2], sharey=ax_pl)
    ax_lig = fig.add_subplot(grid[1, :], sharex=ax_pl)
    first = next(iter(solutions.values()))
    for ax in (ax_pl, ax_zoom, ax_lig):
        shade_light_steps(ax, first)
    colors = matplotlib.colormaps["tab10"].colors
    for (label, sol), color in zip(solutions.items(), colors, strict=False):
        t = np.asarray(sol.time_h)
        for ax in (ax_pl, ax_zoom):
            ax.plot(t, 100 * np.asarray(sol.plqy), color=color, lw=1.8, label=label)
        total = np.asarray(sol.ligand_total)
        ax_lig.plot(t, np.asarray(sol.ligand_adsorbed) / total, color=color, lw=1.6,
                    label=f"{label}: adsorbed")
        ax_lig.plot(t, np.asarray(sol.ligand_lost) / total, color=color, lw=1.2, ls="--",
                    label=f"{label}: lost")
    # The first step in detail: light steps last hours, dark steps hundreds of hours.
    t_first = np.asarray(first.time_h)[first.step_slice(0)]
    ax_zoom.set_xlim(0, 1.5 * t_first[-1])
    ax_zoom.set_xlabel(f"time (h), first {1.5 * t_first[-1]:g} h")
    ax_zoom.grid(alpha=0.3)
    ax_zoom.tick_params(labelleft=False)
    ax_pl.set_ylabel("PLQY (%)")
    ax_pl.set_ylim(bottom=0)
    ax_pl.legend(loc="best", frameon=False)
    ax_pl.grid(alpha=0.3)
    ax_lig.set_xlabel("time (h)   (shaded: light on)")
    ax_lig.set_ylabel("fraction of ligand")
    ax_lig.set_ylim(0, 1.02)
    ax_lig.grid(alpha=0.3)
    ax_lig.legend(loc="best", frameon=False, fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def plot_arrhenius(result, path) -> None:
    """ln k against 1000/T with error bars and the fitted Arrhenius line."""
    fig, ax = subplots(figsize=(5.5, 4.2))
    draw_arrhenius(ax, result)
    fig.tight_layout()
    save_figure(fig, path)


def draw_arrhenius(ax, result) -> None:
    """`plot_arrhenius`'s panel, drawn into `ax` (a `KineticsResult`)."""
    temps = np.array([t for _, t, _ in result.fits])
    k = np.array([f.k for *_, f in result.fits])
    err = np.array([f.k_stderr for *_, f in result.fits]) / k
    ax.errorbar(1000 / temps, np.log(k), yerr=err, fmt="o", capsize=3, label=result.law)
    if result.arrhenius:
        a = result.arrhenius
        x = np.linspace(temps.min(), temps.max(), 50)
        ax.plot(1000 / x, a["ln_A"] - a["Ea_kj_mol"] / (8.314462618e-3 * x), "-",
                label=f"Ea = {a['Ea_kj_mol']:.1f} ± {a['Ea_stderr_kj_mol']:.1f} kJ/mol")
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel("ln k")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)


def plot_profile(result, path) -> None:
    """A parameter's profile: chi2 against its value, the 68/95 % levels, the likelihood-ratio
    interval and the Gauss-Newton (Laplace) one for comparison."""
    fig, ax = subplots(figsize=(5.5, 4.2))
    ax.plot(result.values, result.chi2, "o-", label="profile")
    for level, style in ((1.0, ":"), (3.841, "--")):
        ax.axhline(level, color="0.5", ls=style, lw=0.8)
    lo, hi = result.ci95
    for b in (lo, hi):
        if b is not None:
            ax.axvline(b, color="C0", lw=0.8)
    for b in result.laplace_ci95:
        if b is not None:
            ax.axvline(b, color="C1", ls="--", lw=0.8)
    ax.plot([], [], color="C0", lw=0.8, label="95 %, likelihood ratio")
    ax.plot([], [], color="C1", ls="--", lw=0.8, label="95 %, Gauss-Newton")
    if result.values.min() > 0 and result.values.max() / result.values.min() > 10:
        ax.set_xscale("log")
    ax.set_xlabel(result.parameter)
    ax.set_ylabel("Δloss / s² (chi², 1 dof)")
    ax.set_title("flat: not determined by these data" if result.flat else "")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)


