"""Coverage of the posterior's credible intervals (jaxnc.inference.sample) on synthetic data.

For each of `--datasets` synthetic mean-field light/dark curves (2x2x1 supercrystal,
"light 3h; dark 200h", 32 points) the true rates are drawn around the Hashimoto 2024 set
(log-normal, sd 0.3 in the log: a factor ~1.35), the clean curve gets additive Gaussian noise
of `--noise` (PLQY fraction, the noise the likelihood assumes), and NUTS samples
k_desorption_per_h, k_adsorption_per_h and coverage_initial with the default priors and the
noise integrated out. A calibrated sampler's 90 % intervals hold the truth in ~90 % of the
datasets (binomial sd 4.7 % at 40); the issue's bar is 80-97 %.

    python experiments/posterior_coverage.py [--out DIR] [--datasets 40] [--quick]

Results are written to DIR/coverage.json after every dataset (whole), and a rerun with the
same --out continues where it stopped (with no datasets left, it only draws the figure: the
run behind docs/uncertainty.md is docs/posterior_coverage.json). The figure: each dataset's
90 % interval of each parameter over its truth, those that miss in red. `--quick`: two
datasets, 2 chains of 50 + 50 steps (too short to be calibrated: a check that it runs).
"""

from __future__ import annotations

import json
import time

import _gallery
import numpy as np

import jaxnc
from jaxnc.data import Curve, Dataset, synthetic_dataset
from jaxnc.fitting import fit
from jaxnc.inference import sample
from jaxnc.plot import save_figure, subplots
from jaxnc.runtime import write_json_atomic

FREE = ["k_desorption_per_h", "k_adsorption_per_h", "coverage_initial"]
PROTOCOL = "light 3h; dark 200h"


def dataset(i: int, noise: float, base):
    """The `i`-th synthetic dataset and its true parameters (seeded by `i`)."""
    rng = np.random.default_rng(1000 + i)
    true = base.replace(
        k_desorption_per_h=float(base.k_desorption_per_h) * np.exp(0.3 * rng.standard_normal()),
        k_adsorption_per_h=float(base.k_adsorption_per_h) * np.exp(0.3 * rng.standard_normal()),
        coverage_initial=float(1 / (1 + np.exp(-(np.log(0.13207 / 0.86793)
                                                 + 0.3 * rng.standard_normal())))))
    asm = jaxnc.Assembly.supercrystal(2, 2, 1)
    clean = synthetic_dataset(asm, true, {"a": PROTOCOL}, saves_per_step=16, noise=0.0)
    c = clean.curves[0]
    y = c.plqy + noise * rng.standard_normal(c.plqy.shape)
    data = Dataset(curves=(Curve(sample="a", time_h=c.time_h, plqy=y, light=c.light,
                                 temperature_k=c.temperature_k),), source="synthetic")
    return data, asm, true


def main(argv=None) -> int:
    ap = _gallery.parser(__doc__, "posterior_coverage")
    ap.add_argument("--datasets", type=int, help="default 40, --quick 2")
    ap.add_argument("--noise", type=float, default=0.01)
    ap.add_argument("--chains", type=int, help="default 4, --quick 2")
    ap.add_argument("--warmup", type=int, help="default 200, --quick 50")
    ap.add_argument("--draws", type=int, help="default 250, --quick 50")
    args = ap.parse_args(argv)
    for name, full, quick in (("datasets", 40, 2), ("chains", 4, 2), ("warmup", 200, 50),
                              ("draws", 250, 50)):
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    out = _gallery.outputs(args) / "coverage.json"
    runs = json.loads(out.read_text())["runs"] if out.exists() else []
    base = jaxnc.Parameters.hashimoto2024()
    for i in range(len(runs), args.datasets):
        t0 = time.perf_counter()
        data, asm, true = dataset(i, args.noise, base)
        start = fit(data, asm, base, FREE, starts=1, progress=False)
        post = sample(data, asm, base, FREE, start=start, chains=args.chains,
                      warmup=args.warmup, draws=args.draws, seed=i, progress=False)
        row = dict(dataset=i, wall_s=time.perf_counter() - t0, divergences=post.divergences,
                   rhat_max=post.rhat_max, ess_bulk_min=post.ess_bulk_min, parameters={})
        for n in FREE:
            s, x = post.summary[n], float(getattr(true, n))
            row["parameters"][n] = dict(true=x, median=s["median"], ci90=s["ci90"],
                                        covered90=bool(s["ci90"][0] <= x <= s["ci90"][1]),
                                        covered68=bool(s["ci68"][0] <= x <= s["ci68"][1]),
                                        laplace_se=start.stderr[n], fit=start.values[n])
        runs.append(row)
        write_json_atomic(out, dict(settings=vars(args), runs=runs, summary=summarise(runs)))
        cov = {n[:14]: int(p["covered90"]) for n, p in row["parameters"].items()}
        print(f"dataset {i}: {row['wall_s']:.0f} s, R-hat {row['rhat_max']:.3f}, "
              f"divergences {row['divergences']}, covered {cov}", flush=True)
    print(json.dumps(summarise(runs), indent=1))
    plot_coverage(runs, args.figure)
    print(f"wrote {args.figure}, {out}")
    return 0


def plot_coverage(runs: list, path) -> None:
    """Per parameter, every dataset's 90 % interval divided by its truth (1: the truth)."""
    fig, axes = subplots(1, len(FREE), figsize=(4 * len(FREE), 3.8), squeeze=False)
    for ax, name in zip(axes[0], FREE, strict=True):
        for i, r in enumerate(runs):
            p = r["parameters"][name]
            lo, hi = (v / p["true"] for v in p["ci90"])
            color = "C0" if p["covered90"] else "C3"
            ax.plot([i, i], [lo, hi], "-", color=color, lw=1.5)
            ax.plot(i, p["median"] / p["true"], "o", color=color, ms=2.5)
        ax.axhline(1.0, color="k", lw=0.8)
        covered = sum(r["parameters"][name]["covered90"] for r in runs)
        ax.set_title(f"{name}: {covered}/{len(runs)} hold the truth", fontsize=9)
        ax.set_xlabel("dataset")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("90 % interval and median / truth")
    fig.tight_layout()
    save_figure(fig, path)


def summarise(runs: list) -> dict:
    """Per parameter: the fraction of datasets whose 90 % (68 %) interval holds the truth."""
    out = dict(datasets=len(runs), rhat_max=max(r["rhat_max"] for r in runs),
               divergences=sum(r["divergences"] for r in runs))
    for n in FREE:
        out[n] = dict(coverage90=float(np.mean([r["parameters"][n]["covered90"] for r in runs])),
                      coverage68=float(np.mean([r["parameters"][n]["covered68"] for r in runs])))
    return out


if __name__ == "__main__":
    raise SystemExit(main())
