"""A batched fit of many samples: one set of rates shared by every film and a starting
coverage per film, fitted to all curves at once, the curves solved as one vmapped,
jit-compiled batch (on a GPU when JAX has one; over several GPUs with `--distributed`, one
process each: docs/distributed.md).

The samples are synthetic (default set, 8x8x4 film, mean-field, "light 3h; dark 300h", 1 %
noise), each with its own starting coverage drawn uniformly in 0.05-0.25 (seed 0), so the
truth is known. The figure: each film's fitted starting coverage with its standard error
against its truth, and the two shared rates' relative error. The fit goes to DIR/fit.json;
the devices and the fit's wall time are printed. 32 films, `--quick` 6 (on a 4x4x2 film).
"""

from __future__ import annotations

import time

import _gallery
import jax
import numpy as np

import jaxnc
from jaxnc.data import synthetic_dataset
from jaxnc.plot import save_figure, subplots
from jaxnc.runtime import write_json_atomic

FREE = ["k_desorption_per_h", "k_adsorption_per_h"]
PROTOCOL = "light 3h; dark 300h"


def main(argv: list[str] | None = None) -> int:
    ap = _gallery.parser(__doc__, "batched_fit")
    ap.add_argument("--samples", type=int, help="films (default 32, --quick 6)")
    args = ap.parse_args(argv)
    out = _gallery.outputs(args)
    n = args.samples or (6 if args.quick else 32)
    params = jaxnc.Parameters.hashimoto2024()
    asm = jaxnc.Assembly.supercrystal(4, 4, 2) if args.quick else jaxnc.Assembly.supercrystal()
    rng = np.random.default_rng(0)
    truth = {f"film{i:02d}": float(c) for i, c in enumerate(rng.uniform(0.05, 0.25, n))}
    data = synthetic_dataset(asm, {s: params.replace(coverage_initial=c)
                                   for s, c in truth.items()},
                             {s: PROTOCOL for s in truth}, saves_per_step=12, noise=0.01,
                             seed=1)
    start = params.replace(k_desorption_per_h=1.5 * float(params.k_desorption_per_h),
                           k_adsorption_per_h=0.7 * float(params.k_adsorption_per_h))
    print(f"{n} films, devices: {', '.join(str(d) for d in jax.devices())}")
    t0 = time.perf_counter()
    result = jaxnc.fit(data, asm, start, FREE, per_sample=["coverage_initial"],
                       model="mean_field", progress=not args.quick)
    wall = time.perf_counter() - t0
    write_json_atomic(out / "fit.json", result.to_json())
    print(f"fit: {wall:.1f} s including compilation, {result.iterations} iterations, "
          f"rmse {100 * result.rmse_plqy:.2f} PLQY points")

    fitted = np.array([result.sample_values[s]["coverage_initial"] for s in truth])
    err = np.array([result.sample_stderr[s]["coverage_initial"] for s in truth])
    true = np.array(list(truth.values()))
    inside = np.abs(fitted - true) <= 2 * err
    fig, (ax, ax_rates) = subplots(1, 2, figsize=(10, 4.2), width_ratios=(2, 1))
    ax.errorbar(true, fitted, yerr=err, fmt="o", ms=4, capsize=2)
    ax.plot([0.04, 0.26], [0.04, 0.26], "k--", lw=0.8, label="fitted = true")
    ax.set_xlabel("true starting coverage")
    ax.set_ylabel("fitted starting coverage (± 1 s.e.)")
    ax.set_title(f"{n} films fitted as one batch: {int(inside.sum())} of {n} within 2 s.e.",
                 fontsize=9)
    ax.legend(frameon=False)
    rel = [100 * (result.values[p] / float(getattr(params, p)) - 1) for p in FREE]
    rel_err = [100 * result.stderr[p] / float(getattr(params, p)) for p in FREE]
    ax_rates.errorbar(range(len(FREE)), rel, yerr=rel_err, fmt="o", capsize=3)
    ax_rates.axhline(0, color="k", lw=0.8)
    ax_rates.set_xticks(range(len(FREE)), FREE, fontsize=7)
    ax_rates.set_ylabel("fitted / true - 1 (%)")
    ax_rates.set_title("shared rates (start: 1.5x and 0.7x the truth)", fontsize=9)
    for a in (ax, ax_rates):
        a.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, args.figure)
    for p, r, e in zip(FREE, rel, rel_err, strict=True):
        print(f"{p}: {r:+.2f} % +- {e:.2f} % from the truth")
    print(f"starting coverage within 2 standard errors of the truth: {int(inside.sum())} of {n}")
    print(f"wrote {args.figure}, {out / 'fit.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
