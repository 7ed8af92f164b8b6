"""The figures of the reproduction of Hashimoto et al. 2024, one function per figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...plot import plot_arrhenius, save_figure, shade_light_steps, subplots

__all__ = ["plot_reproduction"]


def plot_reproduction(rep, out_dir) -> list[str]:
    """Figures of a [`Reproduction`][jaxnc.papers.hashimoto2024.Reproduction] in `out_dir`:
    `activation.png` (3D array vs isolated cubes vs 2D array), `cycles.png`,
    `arrhenius.png`, `lifetimes.png`, `long_term.png` (6000 h of light), `action_dose.png`
    (t90 against wavelength and irradiance), `spectra.png` (PL spectra of the four
    preparations) and `decays.png` (PL decays of the 3D array, dark and lit).

    **Returns:** the paths written.
    """
    out = Path(out_dir)
    paths = []
    for name, draw in (("activation", _activation), ("cycles", _cycles),
                       ("arrhenius", None), ("lifetimes", _lifetimes),
                       ("long_term", _long_term), ("action_dose", _action_dose),
                       ("spectra", _spectra), ("decays", _decays)):
        path = out / f"{name}.png"
        if draw is None:
            plot_arrhenius(rep.kinetics, path)
        else:
            fig = draw(rep)
            if fig is None:  # the reproduction has no data for it
                continue
            save_figure(fig, path)
        paths.append(path)
    return [str(p) for p in paths]


def _activation(rep):
    """The 3D array, the 2D array and isolated cubes under 468 nm light and in the dark."""
    fig, (ax_on, ax_off) = subplots(1, 2, figsize=(10, 4.2), width_ratios=(1, 2))
    for name, label, color in (("3d", "3D array", "C0"), ("2d", "2D array", "C2"),
                               ("isolated", "isolated cubes", "C3")):
        sol = rep.solutions[name]
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
    return fig


def _cycles(rep):
    """Three light (shaded) / dark cycles of the 3D array."""
    fig, ax = subplots(figsize=(9, 3.8))
    sol = rep.solutions["cycles"]
    ax.plot(np.asarray(sol.time_h), 100 * np.asarray(sol.plqy), color="C0", lw=1.6)
    shade_light_steps(ax, sol)
    ax.set_xlabel("time (h)")
    ax.set_ylabel("PLQY (%)")
    ax.set_title("Three light (shaded) / dark cycles, 3D array", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _lifetimes(rep):
    """The 3D array's average PL lifetime through the cycle, with the paper's two."""
    fig, ax = subplots(figsize=(6.5, 4))
    sol = rep.solutions["3d"]
    t, tau = np.asarray(sol.time_h), np.asarray(sol.lifetime_ns)
    ax.plot(t, tau, color="C0", lw=1.6, label="model, 3D array")
    ax.axhline(10.5, color="C1", ls="--", lw=1, label="paper: dark 10.5 ns")
    ax.axhline(22.6, color="C2", ls="--", lw=1, label="paper: after light 22.6 ns")
    shade_light_steps(ax, sol)
    ax.set_xscale("symlog", linthresh=3.0)
    ax.set_xlabel("time (h, linear to 3 h, then log)")
    ax.set_ylabel("average PL lifetime (ns)")
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _long_term(rep):
    """6000 h of continuous light (ageing)."""
    fig, ax = subplots(figsize=(6.5, 4))
    sol = rep.solutions["long_term"]
    ax.plot(np.asarray(sol.time_h), 100 * np.asarray(sol.plqy), color="C0", lw=1.6,
            label="model, 3D array, 468 nm")
    ax.axhline(60.0, color="C1", ls="--", lw=1, label="paper: ~60 % after 6000 h")
    ax.set_xlabel("time under light (h)")
    ax.set_ylabel("PLQY (%)")
    ax.set_title("Ageing under continuous light", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _action_dose(rep):
    """t90 against wavelength (action spectrum) and irradiance (dose curve)."""
    if rep.action is None or rep.dose is None:
        return None
    fig, (ax_l, ax_i) = subplots(1, 2, figsize=(10, 4))
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
    return fig


def _spectra(rep):
    """PL spectra of the four preparations and of the lit 3D array."""
    if rep.spectral is None:
        return None
    spec = rep.spectral
    grid = np.asarray(spec["grid"])
    show = (grid >= 480.0) & (grid <= 560.0)
    fig, ax = subplots(figsize=(7, 4.2))
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
    return fig


def _decays(rep):
    """PL decays of the 3D array, dark and lit."""
    if rep.decays is None:
        return None
    fig, ax = subplots(figsize=(6.5, 4))
    t = np.asarray(rep.decays["t_ns"])
    for key, color, label in (("dark", "C1", "dark"), ("lit", "C2", "after 3 h of light")):
        ax.semilogy(t, rep.decays[key], color=color, lw=1.6, label=f"3D array, {label}")
    ax.set_xlabel("time after the pulse (ns)")
    ax.set_ylabel("PL (normalised)")
    ax.set_ylim(1e-3, 1.2)
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig
