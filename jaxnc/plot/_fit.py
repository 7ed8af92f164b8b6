"""The picture of a fit: for every kind of data it was fitted to (PLQY, PL intensity, lifetimes,
spectra), the data against the fitted model, and beneath it the residuals in units of that
kind's noise (so every kind reads on one scale: a good fit scatters within +-2)."""

from __future__ import annotations

import matplotlib
import numpy as np

from ._figure import new_figure, save_figure

__all__ = ["plot_fit"]

_LABELS = {"plqy": "PLQY (%)", "intensity": "PL intensity (counts)",
           "lifetime": "lifetime (ns)", "spectrum": "PL (normalised)"}


def _colors(n: int):
    return (matplotlib.colormaps["tab10"].colors[:n] if n <= 10 else
            [matplotlib.colormaps["viridis"](i / (n - 1)) for i in range(n)])


def _model_curves(curve, sol, result, model, asm, params, proto) -> dict:
    """The fitted model on `sol`'s fine grid, per kind: `(t, y)` (intensity NaN in dark
    steps, where the model has none); for spectra `(wavelengths, spectra at the curve's
    spectrum rows)`."""
    t, plqy = np.asarray(sol.time_h), np.asarray(sol.plqy)
    out = {"plqy": (t, 100 * plqy), "lifetime": (t, np.asarray(sol.lifetime_ns))}
    factor = result.collection_factor.get(curve.sample)
    if factor is not None:
        photons = np.asarray(model.absorbed_photons_per_step(asm, params, proto))
        photons = photons[np.asarray(sol.step_index)]
        out["intensity"] = (t, np.where(photons > 0, factor * plqy * photons, np.nan))
    if curve.spectrum is not None:
        rows = np.flatnonzero(np.isfinite(curve.spectrum).any(axis=1))
        nearest = [int(np.argmin(np.abs(t - curve.time_h[r]))) for r in rows]
        out["spectrum"] = (curve.spectrum_nm, np.asarray(sol.pl_spectrum(curve.spectrum_nm))
                           [nearest])
    return out


def plot_fit(data, result, assembly, path) -> None:
    """Data, fitted model and residuals (in units of each kind's noise) for every curve and
    every kind of data of a fit: one column per kind, data over residuals."""
    from ..models import get_model
    from ..solve import simulate

    kinds = [k for k in ("plqy", "intensity", "lifetime", "spectrum") if k in result.goodness]
    fig = new_figure(figsize=(4.2 * len(kinds) + 1.0, 6.0))
    grid = fig.add_gridspec(2, len(kinds), height_ratios=(2.2, 1))
    axes = {k: (fig.add_subplot(grid[0, j]), fig.add_subplot(grid[1, j]))
            for j, k in enumerate(kinds)}
    model = get_model(result.settings["model"])
    n = len(data.curves)
    for curve, proto, color in zip(data.curves, result.protocols, _colors(n), strict=True):
        asm = assembly[curve.sample] if isinstance(assembly, dict) else assembly
        params = result.sample_params.get(curve.sample, result.params)
        sol = simulate(asm, params, proto, model=result.settings["model"], saves_per_step=201)
        curves = _model_curves(curve, sol, result, model, asm, params, proto)
        for kind, (ax, ax_res) in axes.items():
            _draw(kind, ax, ax_res, curve, curves.get(kind), result.goodness[kind]["noise"],
                  color)
    for kind, (ax, ax_res) in axes.items():
        g = result.goodness[kind]
        ax.set_ylabel(_LABELS[kind])
        ax.set_title(f"{kind}: reduced chi-square {g['reduced_chi2']:.2f} (n = {g['n']})",
                     fontsize=9)
        ax.grid(alpha=0.3)
        ax_res.axhline(0, color="k", lw=0.8)
        ax_res.set_ylabel("(data - fit) / noise")
        ax_res.set_xlabel("wavelength (nm)" if kind == "spectrum" else "time (h)")
        ax_res.grid(alpha=0.3)
    first = axes[kinds[0]][0]
    first.legend(frameon=False, fontsize=7 if n <= 4 else 5, ncol=1 if n <= 4 else 2)
    fig.suptitle("free: " + ", ".join(result.free + [p + "[sample]" for p in result.per_sample]),
                 fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def _draw(kind, ax, ax_res, curve, model_curve, noise, color) -> None:
    """One curve's data, model and residuals on one kind's axes."""
    if model_curve is None:
        return
    x, y = model_curve
    if kind == "spectrum":
        for row, spectrum in zip(np.flatnonzero(np.isfinite(curve.spectrum).any(axis=1)), y,
                                 strict=True):
            data = curve.spectrum[row] / np.nanmax(curve.spectrum[row])
            ok = np.isfinite(data)
            a = np.sum(spectrum[ok] * data[ok]) / np.sum(spectrum[ok] ** 2)  # as the fit
            ax.plot(x, data, "o", ms=2, color=color)
            ax.plot(x, a * spectrum, "-", lw=1.2, color=color)
            ax_res.plot(x, (data - a * spectrum) / noise, ".", ms=2, color=color)
        return
    values = {"plqy": 100 * curve.plqy, "lifetime": curve.lifetime_ns,
              "intensity": curve.intensity}[kind]
    ok = np.isfinite(values)
    ax.plot(curve.time_h[ok], values[ok], "o", ms=3.5, color=color,
            label=f"{curve.sample}: data")
    ax.plot(x, y, "-", color=color, lw=1.6, label=f"{curve.sample}: fit")
    if kind == "intensity":
        ax.set_yscale("log")
        lit = np.isfinite(y)
        resid = np.log(values[ok] / np.interp(curve.time_h[ok], x[lit], y[lit]))
        ax_res.plot(curve.time_h[ok], resid / noise, "o", ms=3, color=color)
        return
    scale = 100.0 if kind == "plqy" else 1.0
    resid = (values[ok] - np.interp(curve.time_h[ok], x, y)) / scale
    ax_res.plot(curve.time_h[ok], resid / noise, "o", ms=3, color=color)
