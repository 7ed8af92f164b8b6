"""Fit your own CSV: the model's desorption and adsorption rates, shared by every curve, and
each curve's starting coverage, fitted to PLQY curves through the solver.

    python experiments/fit_csv.py [PLQY.csv] [--assembly supercrystal|monolayer|isolated]

The CSV has `time_h`, `plqy` (fraction) or `plqy_percent`, and optionally `light` (0/1),
`temperature_k`, `sample` (docs/fitting.md). Without a file, the script writes an example
first (DIR/example.csv): two films of the default set with starting coverages 0.10 and 0.16,
one lit for 3 h then kept dark at 298 K, one lit for 1 h then kept dark at 318 K, with 2 %
noise, and prints the truth beside the fit. The
figure is the data, the fitted curves and the residuals; the fit goes to DIR/fit.json.
`--quick` uses fewer points per step and a 4x4x2 film.
"""

from __future__ import annotations

import _gallery

import jaxnc
from jaxnc.data import synthetic_dataset
from jaxnc.plot import plot_fit
from jaxnc.runtime import write_json_atomic

FREE = ["k_desorption_per_h", "k_adsorption_per_h"]
PER_SAMPLE = ["coverage_initial"]
EXAMPLE_COVERAGE = {"film_a": 0.10, "film_b": 0.16}
EXAMPLE_PROTOCOLS = {"film_a": "light 3h; dark 300h", "film_b": "light 1h; dark 300h at 318K"}


def main(argv: list[str] | None = None) -> int:
    ap = _gallery.parser(__doc__, "fit_csv")
    ap.add_argument("csv", nargs="?", help="PLQY curves (default: write and fit an example)")
    ap.add_argument("--assembly", default="supercrystal",
                    choices=("supercrystal", "monolayer", "isolated"))
    args = ap.parse_args(argv)
    out = _gallery.outputs(args)
    params = jaxnc.Parameters.hashimoto2024()
    shape = {"supercrystal": (4, 4, 2) if args.quick else (8, 8, 4),
             "monolayer": (8, 8), "isolated": (16,)}[args.assembly]
    asm = getattr(jaxnc.Assembly, args.assembly)(*shape)
    path = args.csv
    if path is None:
        path = out / "example.csv"
        truth = {s: params.replace(coverage_initial=c) for s, c in EXAMPLE_COVERAGE.items()}
        synthetic_dataset(asm, truth, EXAMPLE_PROTOCOLS,
                          saves_per_step=8 if args.quick else 16, noise=0.02,
                          seed=0).to_csv(path)
        print(f"wrote the example {path} (truth: coverage_initial {EXAMPLE_COVERAGE}, "
              f"k_desorption_per_h {float(params.k_desorption_per_h):.4g}, "
              f"k_adsorption_per_h {float(params.k_adsorption_per_h):.4g})")
    data = jaxnc.Dataset.from_csv(path)
    start = params.replace(k_desorption_per_h=2 * float(params.k_desorption_per_h),
                           k_adsorption_per_h=0.5 * float(params.k_adsorption_per_h))
    result = jaxnc.fit(data, asm, start, FREE, per_sample=PER_SAMPLE, model="mean_field",
                       progress=not args.quick)
    print("\n".join(result.lines()))
    write_json_atomic(out / "fit.json", result.to_json())
    plot_fit(data, result, asm, args.figure)
    print(f"wrote {args.figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
