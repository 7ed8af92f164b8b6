"""A nonlinear case: the Laplace (Gauss-Newton) interval against the profile likelihood and
the NUTS posterior, and the figure of docs/uncertainty.md.

Synthetic mean-field curve (2x2x1 supercrystal, "light 3h; dark 4h", 3 % noise, seed 4): the
4 h of dark show only the start of the decay, so `k_desorption_per_h` is known to ~40 %, and
the PLQY is about linear in the rate itself, not in its log: the likelihood is skewed in the
log space where the Laplace approximation is a Gaussian.

    python experiments/uncertainty_nonlinear.py [--quick]

writes its figure (DIR/uncertainty_nonlinear.png; with --docs the gallery page's) and the
numbers to DIR/numbers.json. `--quick`:
5 profile points and 2 chains of 50 + 100 NUTS steps (too short to trust: a check that it
runs).
"""

from __future__ import annotations

import json

import _gallery
import numpy as np

import jaxnc
from jaxnc.data import synthetic_dataset
from jaxnc.fitting import profile
from jaxnc.inference import sample
from jaxnc.plot import save_figure, subplots
from jaxnc.runtime import write_json_atomic

NAME = "k_desorption_per_h"
FREE = [NAME, "k_adsorption_per_h"]


def main(argv=None) -> int:
    args = _gallery.parser(__doc__, "uncertainty_nonlinear").parse_args(argv)
    out = _gallery.outputs(args)
    true = jaxnc.Parameters.hashimoto2024()
    asm = jaxnc.Assembly.supercrystal(2, 2, 1)
    data = synthetic_dataset(asm, true, {"a": "light 3h; dark 4h"}, saves_per_step=16,
                             noise=0.03, seed=4)
    prof = profile(data, asm, true, NAME, FREE, points=5 if args.quick else 15, span=4.0,
                   progress=False)
    post = sample(data, asm, true, FREE, chains=2 if args.quick else 4,
                  warmup=50 if args.quick else 300, draws=100 if args.quick else 1000, seed=0,
                  progress=False)
    s = post.summary[NAME]
    width = s["ci95"][1] - s["ci95"][0]
    numbers = dict(true=float(true.k_desorption_per_h), fit=prof.optimum,
                   laplace_ci95=prof.laplace_ci95, profile_ci95=prof.ci95,
                   posterior_ci95=s["ci95"], posterior_median=s["median"],
                   rhat=s["rhat"], ess_bulk=s["ess_bulk"], divergences=post.divergences,
                   laplace_off_by=[abs(a - b) / width for a, b in zip(prof.laplace_ci95,
                                                                     s["ci95"], strict=True)],
                   profile_off_by=[abs(a - b) / width for a, b in zip(prof.ci95, s["ci95"],
                                                                     strict=True)])
    print(json.dumps(numbers, indent=1))
    write_json_atomic(out / "numbers.json", numbers)
    fig, ax = subplots(figsize=(6.4, 4.2))
    x = post.draws[..., post.columns.index(NAME)].ravel()
    ax.hist(x, bins=60, density=True, color="C0", alpha=0.45, label="posterior (NUTS)")
    grid = np.linspace(min(x.min(), prof.values.min()), max(x.max(), prof.values.max()), 400)
    z, se_z = np.log(prof.optimum), prof.stderr / prof.optimum
    laplace = np.exp(-0.5 * ((np.log(grid) - z) / se_z) ** 2) / (grid * se_z * np.sqrt(2 * np.pi))
    ax.plot(grid, laplace, color="C1", lw=1.5, label="Laplace (Gaussian in log k)")
    twin = ax.twinx()
    twin.plot(prof.values, np.exp(-0.5 * prof.chi2), "o-", color="C2", ms=3,
              label="profile likelihood")
    twin.set_ylim(0, 1.05)
    twin.set_ylabel("profile likelihood (relative)")
    for (lo, hi), color, y in ((s["ci95"], "C0", 0.96), (prof.laplace_ci95, "C1", 0.9),
                               (prof.ci95, "C2", 0.84)):
        twin.plot([lo, hi], [y, y], "|-", color=color, lw=2, ms=10)
    ax.axvline(numbers["true"], color="k", lw=1, label="truth")
    ax.set_xlabel(f"{NAME} (1/h)")
    ax.set_ylabel("density")
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], frameon=False, fontsize=8)
    ax.set_title("95 % intervals (bars): posterior, Laplace, profile", fontsize=9)
    fig.tight_layout()
    save_figure(fig, args.figure)
    print(f"wrote {args.figure}, {out / 'numbers.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
