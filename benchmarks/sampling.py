"""Cost of posterior sampling (jaxnc.inference.sample): effective samples per second.

    .venv/bin/python benchmarks/sampling.py [--case single|joint|both] [--json out.json]

Cases (mean_field, 2x2x1 supercrystal, synthetic data, 1 % noise):
- single: one "light 3h; dark 200h" curve (32 points), k_desorption_per_h,
  k_adsorption_per_h and coverage_initial free (3 dimensions); 4 chains, 300 warm-up steps,
  500 draws.
- joint: 16 curves ("light 3h; dark 300h at T", 4 temperatures x 4 starting coverages, 16
  points each), k_desorption_per_h, k_adsorption_per_h and Ea_desorption_kj_mol global and
  coverage_initial per sample (19 dimensions), all 16 curves one vmapped batch per chain;
  4 chains, 60 warm-up steps, 60 draws (about 20 min on 2 cores).

Each case is sampled with the dense mass matrix (the default) and, for the single curve,
the diagonal one as the baseline run in the same process. Compilation is reported apart:
`compile_s` is the start and the first chunk of 25 steps (which hold the compilation) less
25 steps at the measured per-step rate; ESS/s divides the smallest bulk ESS by the time of
the draws after the warm-up (`sampling_s`) and, second, by the whole run less compilation.
"""

from __future__ import annotations

import argparse
import json
import time

import jaxnc
from jaxnc.data import synthetic_dataset
from jaxnc.fitting import fit
from jaxnc.inference import sample


def single():
    true = jaxnc.Parameters.hashimoto2024()
    asm = jaxnc.Assembly.supercrystal(2, 2, 1)
    data = synthetic_dataset(asm, true, {"a": "light 3h; dark 200h"}, saves_per_step=16,
                             noise=0.01, seed=4)
    free = ["k_desorption_per_h", "k_adsorption_per_h", "coverage_initial"]
    return data, asm, true, free, [], dict(warmup=300, draws=500)


def joint():
    true = jaxnc.Parameters.hashimoto2024()
    asm = jaxnc.Assembly.supercrystal(2, 2, 1)
    params, protocols = {}, {}
    for t in (288.15, 298.15, 308.15, 318.15):
        for c in (0.10, 0.15, 0.20, 0.25):
            name = f"T{t:.0f}_c{c:.2f}"
            params[name] = true.replace(coverage_initial=c)
            protocols[name] = f"light 3h; dark 300h at {t}K"
    data = synthetic_dataset(asm, params, protocols, saves_per_step=8, noise=0.01, seed=1)
    free = ["k_desorption_per_h", "k_adsorption_per_h", "Ea_desorption_kj_mol"]
    return data, asm, true, free, ["coverage_initial"], dict(warmup=60, draws=60)


def measure(case, metric: str) -> dict:
    data, asm, true, free, per_sample, sizes = case()
    t0 = time.perf_counter()
    start = fit(data, asm, true, free, per_sample=per_sample, starts=1, progress=False)
    fit_s = time.perf_counter() - t0
    post = sample(data, asm, true, free, per_sample=per_sample, start=start, metric=metric,
                  progress=False, **sizes)
    tm = post.timing
    steps = sizes["warmup"] + sizes["draws"]
    per_step = (tm["warmup_s"] + tm["sampling_s"]) / (steps - 25)
    compile_s = tm["start_s"] + tm["first_chunk_s"] - 25 * per_step
    run_s = tm["total_s"] - compile_s
    ess = post.ess_bulk_min
    return dict(case=case.__name__, metric=metric, dimensions=len(post.columns), **sizes,
                fit_s=fit_s, compile_s=compile_s, run_s=run_s, sampling_s=tm["sampling_s"],
                ess_bulk_min=ess, rhat_max=post.rhat_max, divergences=post.divergences,
                tree_steps=post.tree_steps, ess_per_s_sampling=ess / tm["sampling_s"],
                ess_per_s_run=ess / run_s)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", choices=("single", "joint", "both"), default="both")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    rows = []
    if args.case in ("single", "both"):
        for metric in ("dense", "diag"):
            rows.append(measure(single, metric))
            _print(rows[-1])
    if args.case in ("joint", "both"):
        rows.append(measure(joint, "dense"))
        _print(rows[-1])
    if args.case in ("single", "both"):
        print(f"dense / diag ESS per second of draws: "
              f"{rows[0]['ess_per_s_sampling'] / rows[1]['ess_per_s_sampling']:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


def _print(r: dict) -> None:
    print(f"{r['case']:6s} {r['metric']:5s} d={r['dimensions']:2d}: compile "
          f"{r['compile_s']:5.1f} s, run {r['run_s']:6.1f} s, min bulk ESS "
          f"{r['ess_bulk_min']:6.0f}, ESS/s {r['ess_per_s_sampling']:6.2f} (draws) "
          f"{r['ess_per_s_run']:6.2f} (whole run), R-hat {r['rhat_max']:.3f}, "
          f"{r['tree_steps']:.1f} leapfrog/draw, {r['divergences']} divergences",
          flush=True)


if __name__ == "__main__":
    main()
