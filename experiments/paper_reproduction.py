"""The paper, reproduced: every experiment of Hashimoto et al. 2024 run on the default
parameter set by `jaxnc reproduce hashimoto2024`, and the model set against each number the
paper states.

The command writes to DIR the comparison table (comparison.md, comparison.csv), the kinetics
of the simulated dark decays, the action spectrum and dose curve, and its figures
(activation, cycles, arrhenius, lifetimes, long_term, action_dose, spectra, decays). The
gallery's figure is drawn from comparison.csv: the model's relative difference from the paper
for every number both give, calibration targets (grey) apart from predictions (blue; matching
a target is not evidence for the model). The full run uses the `field` model (every cube,
minutes); `--quick` the mean-field model (one cube per layer).
"""

from __future__ import annotations

import csv

import _gallery
import numpy as np

from jaxnc.cli import main as jaxnc_command
from jaxnc.plot import save_figure, subplots


def main(argv: list[str] | None = None) -> int:
    args = _gallery.parser(__doc__, "paper_reproduction").parse_args(argv)
    out = _gallery.outputs(args)
    model = "mean_field" if args.quick else "field"
    code = jaxnc_command(["reproduce", "hashimoto2024", "--out", str(out), "--model", model])
    if code != 0:
        return code
    with open(out / "comparison.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if _number(r["paper"]) and _number(r["model"])]
    rows = [r for r in rows if float(r["paper"]) != 0]
    rel = np.array([100 * (float(r["model"]) / float(r["paper"]) - 1) for r in rows])
    target = np.array([r["note"].startswith("calibration target") for r in rows])
    fig, ax = subplots(figsize=(8.5, 0.28 * len(rows) + 1.4))
    y = np.arange(len(rows))[::-1]
    ax.barh(y, rel, color=np.where(target, "0.7", "C0"), height=0.7)
    ax.set_yticks(y, [f"{r['quantity']} ({r['unit']})" for r in rows], fontsize=7)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("model / paper - 1 (%)")
    for yi, r in zip(y, rows, strict=True):
        ax.annotate(f"{float(r['model']):.4g} / {float(r['paper']):.4g}", (1.01, yi),
                    xycoords=("axes fraction", "data"), va="center", fontsize=7)
    ax.set_title(f"jaxnc ({model}, default parameters) against Hashimoto et al. 2024\n"
                 "calibration targets grey, predictions blue; right: model / paper", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    save_figure(fig, args.figure)
    print(f"wrote {args.figure}; {int(target.sum())} targets and {int((~target).sum())} "
          f"predictions with a number on both sides")
    return 0


def _number(text: str) -> bool:
    try:
        return np.isfinite(float(text))
    except ValueError:
        return False


if __name__ == "__main__":
    raise SystemExit(main())
