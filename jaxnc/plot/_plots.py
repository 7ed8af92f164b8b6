"""Matplotlib figures of simulations. Files are written whole or not at all."""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .._errors import ParameterError
from .._io import atomic_path

__all__ = ["plot_solutions", "plot_arrhenius", "plot_fit", "plot_reproduction",
           "check_plot_path"]

_FORMATS = ("png", "pdf", "svg")


def check_plot_path(path) -> str:
    """The image format named by `path`'s extension; `ParameterError` if it is not one we write."""
    fmt = str(path).rsplit(".", 1)[-1].lower() if "." in str(path) else ""
    if fmt not in _FORMATS:
        raise ParameterError(f"plot file {str(path)!r}: extension must be one of {_FORMATS}")
    return fmt


def _figure(**kwargs) -> Figure:
    """A figure outside pyplot: no global backend is chosen or changed, so importing and
    calling jaxnc.plot leaves a notebook's or an application's matplotlib state alone."""
    return Figure(**kwargs)


def _subplots(*args, figsize, **kwargs):
    fig = _figure(figsize=figsize)
    return fig, fig.subplots(*args, **kwargs)


def _save(fig, path) -> None:
    """Save whole or not at all, in the format the file extension names."""
    fmt = check_plot_path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=130, format=fmt)


def _shade_light(ax, sol) -> None:
    t = np.asarray(sol.time_h)
    for k, kind in enumerate(sol.kinds):
        if kind == "light":
            s = sol.step_slice(k)
            ax.axvspan(t[s][0], t[s][-1], color="#4a7bd1", alpha=0.12, lw=0)


def plot_solutions(solutions: dict, path, *, title: str | None = None) -> None:
    """PLQY and ligand budget against time for one or more simulations.

    **Arguments:**

    - `solutions`: `{label: Solution}`; all should share one protocol (light steps are shaded
      from the first).
    - `path`: output image (PNG by extension).
    - `title`: optional figure title.
    """
    fig = _figure(figsize=(9.5, 6.5))
    grid = fig.add_gridspec(2, 3, height_ratios=(2, 1.2))
    ax_pl = fig.add_subplot(grid[0, :2])
    ax_zoom = fig.add_subplot(grid[0, 2], sharey=ax_pl)
    ax_lig = fig.add_subplot(grid[1, :], sharex=ax_pl)
    first = next(iter(solutions.values()))
    for ax in (ax_pl, ax_zoom, ax_lig):
        _shade_light(ax, first)
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
    _save(fig, path)


def plot_arrhenius(result, path) -> None:
    """ln k against 1000/T with error bars and the fitted Arrhenius line."""
    fig, ax = _subplots(figsize=(5.5, 4.2))
    draw_arrhenius(ax, result)
    fig.tight_layout()
    _save(fig, path)


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
    fig, ax = _subplots(figsize=(5.5, 4.2))
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
    _save(fig, path)


def plot_fit(data, result, assembly, path) -> None:
    """Data, fitted model and residuals for every curve of a fit."""
    from ..solve import simulate

    settings = result.settings
    fig, (ax, ax_res) = _subplots(2, 1, figsize=(7.5, 6), sharex=True,
                                     height_ratios=(2.2, 1))
    n = len(data.curves)
    colors = (matplotlib.colormaps["tab10"].colors[:n] if n <= 10 else
              [matplotlib.colormaps["viridis"](i / (n - 1)) for i in range(n)])
    for curve, proto, color in zip(data.curves, result.protocols, colors, strict=True):
        asm = assembly[curve.sample] if isinstance(assembly, dict) else assembly
        sol = simulate(asm, result.sample_params.get(curve.sample, result.params), proto,
                       model=settings["model"], saves_per_step=201)
        t, pl = np.asarray(sol.time_h), np.asarray(sol.plqy)
        ax.plot(curve.time_h, 100 * curve.plqy, "o", ms=3.5, color=color,
                label=f"{curve.sample}: data")
        ax.plot(t, 100 * pl, "-", color=color, lw=1.6, label=f"{curve.sample}: fit")
        ax_res.plot(curve.time_h, 100 * (curve.plqy - np.interp(curve.time_h, t, pl)), "o",
                    ms=3, color=color)
    ax.set_ylabel("PLQY (%)")
    ax.legend(frameon=False, fontsize=7 if n <= 4 else 5, ncol=1 if n <= 4 else 2)
    ax.grid(alpha=0.3)
    ax.set_title(f"rmse {100 * result.rmse_plqy:.2f} PLQY points; free: "
                 f"{', '.join(result.free + [n + '[sample]' for n in result.per_sample])}",
                 fontsize=9)
    ax_res.axhline(0, color="k", lw=0.8)
    ax_res.set_ylabel("data - fit (points)")
    ax_res.set_xlabel("time (h)")
    ax_res.grid(alpha=0.3)
    fig.tight_layout()
    _save(fig, path)


def plot_reproduction(rep, out_dir) -> list[str]:
    """Figures of a [`Reproduction`][jaxnc.fit.Reproduction]: `activation.png` (3D array vs
    isolated cubes vs 2D array), `cycles.png`, `arrhenius.png`, `lifetimes.png`,
    `long_term.png` (6000 h of light), `action_dose.png` (t90 against wavelength and
    irradiance), `spectra.png` (PL spectra of the four preparations) and `decays.png` (PL
    decays of the 3D array, dark and lit) in `out_dir`.

    **Returns:** the paths written.
    """
    from pathlib import Path

    out = Path(out_dir)
    sols = rep.solutions
    paths = []

    fig, (ax_on, ax_off) = _subplots(1, 2, figsize=(10, 4.2), width_ratios=(1, 2))
    for name, label, color in (("3d", "3D array", "C0"), ("2d", "2D array", "C2"),
                               ("isolated", "isolated cubes", "C3")):
        sol = sols[name]
        t, pl = np.asarray(sol.time_h), 100 * np.asarray(sol.plqy)
        on, off = sol.step_slice(0), sol.step_slice(1)
        ax_on.plot(t[on], pl[on], color=color, lw=1.8, label=label)
        ax_off.plot(t[off], pl[off], color=color, lw=1.8, label=label)
    ax_on.set_title("468 nm light", fontsize=10)
    ax_off.set_title("dark", fontsize=10)
    for ax in (ax_on, ax_off):
        ax.set_xlabel("time (h)")
        ax.grid(alpha=0.3)
    ax_on.set_ylabel("PLQY (%)")
    ax_on.axhline(68.3, color="k", ls=":", lw=1)
    ax_on.text(0.05, 69.5, "paper max 68.3 %", fontsize=8)
    ax_on.legend(frameon=False, fontsize=8)
    fig.suptitle(f"Photoactivation and dark recovery ({rep.model})", fontsize=11)
    fig.tight_layout()
    paths.append(out / "activation.png")
    _save(fig, paths[-1])

    fig, ax = _subplots(figsize=(9, 3.8))
    sol = sols["cycles"]
    ax.plot(np.asarray(sol.time_h), 100 * np.asarray(sol.plqy), color="C0", lw=1.6)
    _shade_light(ax, sol)
    ax.set_xlabel("time (h)")
    ax.set_ylabel("PLQY (%)")
    ax.set_title("Three light (shaded) / dark cycles, 3D array", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    paths.append(out / "cycles.png")
    _save(fig, paths[-1])

    paths.append(out / "arrhenius.png")
    plot_arrhenius(rep.kinetics, paths[-1])

    fig, ax = _subplots(figsize=(6.5, 4))
    sol = sols["3d"]
    t, tau = np.asarray(sol.time_h), np.asarray(sol.lifetime_ns)
    ax.plot(t, tau, color="C0", lw=1.6, label="model, 3D array")
    ax.axhline(10.5, color="C1", ls="--", lw=1, label="paper: dark 10.5 ns")
    ax.axhline(22.6, color="C2", ls="--", lw=1, label="paper: after light 22.6 ns")
    _shade_light(ax, sol)
    ax.set_xscale("symlog", linthresh=3.0)
    ax.set_xlabel("time (h, linear to 3 h, then log)")
    ax.set_ylabel("average PL lifetime (ns)")
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    paths.append(out / "lifetimes.png")
    _save(fig, paths[-1])

    fig, ax = _subplots(figsize=(6.5, 4))
    sol = sols["long_term"]
    ax.plot(np.asarray(sol.time_h), 100 * np.asarray(sol.plqy), color="C0", lw=1.6,
            label="model, 3D array, 468 nm")
    ax.axhline(60.0, color="C1", ls="--", lw=1, label="paper: ~60 % after 6000 h")
    ax.set_xlabel("time under light (h)")
    ax.set_ylabel("PLQY (%)")
    ax.set_title("Ageing under continuous light", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    paths.append(out / "long_term.png")
    _save(fig, paths[-1])

    if rep.action is not None and rep.dose is not None:
        fig, (ax_l, ax_i) = _subplots(1, 2, figsize=(10, 4))
        for ax, data, key, xlabel in (
                (ax_l, rep.action, "wavelength_nm", "wavelength (nm), 10 mW/cm²"),
                (ax_i, rep.dose, "irradiance_mw_cm2", "irradiance (mW/cm²), 468 nm")):
            x, t90 = np.asarray(data[key]), np.asarray(data["t90_h"])
            ok = np.isfinite(t90)
            ax.plot(x[ok], t90[ok], "o-", color="C0", ms=4)
            for xv in x[~ok]:
                ax.axvline(xv, color="0.7", lw=0.8, ls=":")
            ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            ax.grid(alpha=0.3, which="both")
        ax_i.set_xscale("log")
        ax_l.set_ylabel(f"t90 (h) to {rep.dose['level_percent']:.1f} % PLQY")
        ax_l.set_title(f"Action spectrum (dotted: not reached in {rep.action['window_h']:g} h)",
                       fontsize=10)
        ax_i.set_title("Dose curve", fontsize=10)
        fig.tight_layout()
        paths.append(out / "action_dose.png")
        _save(fig, paths[-1])

    if rep.spectral is not None:
        spec = rep.spectral
        grid = np.asarray(spec["grid"])
        show = (grid >= 480.0) & (grid <= 560.0)
        fig, ax = _subplots(figsize=(7, 4.2))
        paper = {"isolated": 513, "dispersion": 515, "2d": 519, "3d": 528}
        for (name, st), color in zip(spec["states"].items(), ("C3", "C1", "C2", "C0"),
                                     strict=False):
            ax.plot(grid[show], st["spectrum"][show], color=color, lw=1.6,
                    label=f"{name}: {st['peak_nm']:.1f} nm (paper {paper[name]})")
            ax.axvline(paper[name], color=color, ls=":", lw=0.8)
        ax.plot(grid[show], spec["lit"]["spectrum"][show], color="C0", lw=1.2, ls="--",
                label=f"3d after 3 h of light: {spec['lit']['peak_nm']:.1f} nm")
        ax.set_xlabel("wavelength (nm)")
        ax.set_ylabel("PL (normalised)")
        ax.set_title("PL spectra of 9.8 +- 1.1 nm cubes, dark start (dotted: the paper's peaks)",
                     fontsize=9)
        ax.legend(frameon=False, fontsize=8)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        paths.append(out / "spectra.png")
        _save(fig, paths[-1])

    if rep.decays is not None:
        fig, ax = _subplots(figsize=(6.5, 4))
        t = np.asarray(rep.decays["t_ns"])
        for key, color, label in (("dark", "C1", "dark"), ("lit", "C2", "after 3 h of light")):
            ax.semilogy(t, rep.decays[key], color=color, lw=1.6, label=f"3D array, {label}")
        ax.set_xlabel("time after the pulse (ns)")
        ax.set_ylabel("PL (normalised)")
        ax.set_ylim(1e-3, 1.2)
        ax.legend(frameon=False, fontsize=8)
        ax.grid(alpha=0.3, which="both")
        fig.tight_layout()
        paths.append(out / "decays.png")
        _save(fig, paths[-1])
    return [str(p) for p in paths]
