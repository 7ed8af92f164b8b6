"""Figures of posterior draws ([`jaxnc.inference.sample`][]): a corner plot and trace plots."""

from __future__ import annotations

import numpy as np

from ._figure import save_figure, subplots

__all__ = ["plot_corner", "plot_trace"]


def _axis_values(result, i: int) -> tuple[np.ndarray, bool]:
    """Column `i`'s draws, and whether to show it on a log axis (a positive quantity that
    spans more than a factor 3 of its median)."""
    x = result.draws[..., i].ravel()
    log = bool(np.all(x > 0) and np.quantile(x, 0.99) / np.quantile(x, 0.01) > 3)
    return x, log


def plot_corner(result, path, *, truth: dict | None = None) -> None:
    """Pairwise scatter of the draws under the diagonal, each column's histogram on it, the
    95 % credible interval (dashed) and the fit's optimum (orange); `truth`: `{label: value}`
    marked in black (synthetic data)."""
    k = len(result.columns)
    size = min(2.2 * k + 1.0, 16)
    fig, axes = subplots(k, k, figsize=(size, size), squeeze=False)
    start = dict(result.start.values)
    for s, vals in result.start.sample_values.items():
        start.update({f"{n}[{s}]": v for n, v in vals.items()})
    truth = truth or {}
    values = [_axis_values(result, i) for i in range(k)]
    for r in range(k):
        for c in range(k):
            ax = axes[r, c]
            if c > r:
                ax.set_visible(False)
                continue
            xc, logc = values[c]
            label_c = result.columns[c]
            if r == c:
                bins = np.geomspace(xc.min(), xc.max(), 40) if logc else 40
                ax.hist(xc, bins=bins, color="C0", alpha=0.7)
                for b in result.summary[label_c]["ci95"]:
                    ax.axvline(b, color="C0", ls="--", lw=0.8)
                ax.set_yticks([])
            else:
                xr, logr = values[r]
                ax.plot(xc, xr, ".", ms=1.5, alpha=0.25, color="C0", rasterized=True)
                if logr:
                    ax.set_yscale("log")
                for mark, color in ((start, "C1"), (truth, "k")):
                    if label_c in mark and result.columns[r] in mark:
                        ax.plot(mark[label_c], mark[result.columns[r]], "+", ms=10, mew=1.5,
                                color=color)
            for mark, color in ((start, "C1"), (truth, "k")):
                if r == c and label_c in mark:
                    ax.axvline(mark[label_c], color=color, lw=1.2)
            if logc:
                ax.set_xscale("log")
            if r == k - 1:
                ax.set_xlabel(label_c, fontsize=8)
            else:
                ax.set_xticklabels([])
            if c == 0 and r > 0:
                ax.set_ylabel(result.columns[r], fontsize=8)
            elif c > 0:
                ax.set_yticklabels([])
            ax.tick_params(labelsize=7)
    fig.suptitle(f"posterior: {result.draws.shape[0]} chains x {result.draws.shape[1]} draws, "
                 f"{result.divergences} divergences; orange: fit" + (", black: truth"
                                                                     if truth else ""),
                 fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def plot_trace(result, path) -> None:
    """Every column's draws against the draw number, one line per chain, with its R-hat and
    bulk effective sample size; divergent draws marked red."""
    k = len(result.columns)
    fig, axes = subplots(k, 1, figsize=(7.5, 1.6 * k + 0.8), squeeze=False, sharex=True)
    for i, label in enumerate(result.columns):
        ax = axes[i, 0]
        _, log = _axis_values(result, i)
        for chain in range(result.draws.shape[0]):
            ax.plot(result.draws[chain, :, i], lw=0.6, alpha=0.8)
        if log:
            ax.set_yscale("log")
        s = result.summary[label]
        ax.set_ylabel(label, fontsize=8)
        ax.set_title(f"R-hat {s['rhat']:.3f}, bulk ESS {s['ess_bulk']:.0f}", fontsize=8,
                     loc="right")
        ax.tick_params(labelsize=7)
    for chain, draw in zip(*np.nonzero(result.divergent), strict=True):
        for i in range(k):
            axes[i, 0].plot(draw, result.draws[chain, draw, i], "|", color="red", ms=8)
    axes[-1, 0].set_xlabel("draw (after warm-up)")
    fig.tight_layout()
    save_figure(fig, path)
