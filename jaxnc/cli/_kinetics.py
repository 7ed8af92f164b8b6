"""`jaxnc kinetics`: rate-law fits to dark decays and an Arrhenius line, to JSON (and a plot)."""

from __future__ import annotations

from ._options import add_data_option, add_output_options, check_plot, read_data, wrote

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    p = sub.add_parser(
        "kinetics",
        help="rate-law fits to dark decays, then an Arrhenius line",
        description="Fit a rate law to the dark decay (rows with light == 0, or all rows) of "
        "each sample, then ln k against 1/T over the samples' temperature_k.",
    )
    add_data_option(p, what="dark decays of PLQY (one per sample or temperature)")
    p.add_argument("--law", choices=("pso", "first-order"), default="pso",
                   help="rate law (default pso: pseudo-second-order)")
    add_output_options(p, out="output JSON file", plot="output PNG: Arrhenius plot",
                       quiet=None)
    p.set_defaults(run=run)


def run(args) -> int:
    from ..analysis import kinetics
    from ..runtime import write_json_atomic

    check_plot(args.plot)
    # One rate law per temperature: a file without a sample column is grouped by temperature.
    data = read_data(args, split="temperature")
    result = kinetics(data, law=args.law)
    out = result.to_json()
    out["settings"] = dict(data=list(args.data), law=args.law)
    write_json_atomic(args.out, out)
    if args.plot:
        from ..plot import plot_arrhenius

        plot_arrhenius(result, args.plot)
    for entry, (*_, decay) in zip(out["rate_constants"], result.fits, strict=True):
        error = ("(not converged: no standard error; not used for Ea)" if not decay.converged
                 else f"+- {decay.k_stderr:.2g}")
        print(f"{entry['sample']:16s} T = {entry['temperature_k']:7.2f} K  "
              f"k = {entry['k']:.4g} {error}")
    if "Ea_kj_mol" in out:
        print(f"Ea = {out['Ea_kj_mol']:.2f} +- {out['Ea_stderr_kj_mol']:.2f} kJ/mol")
    print(wrote(args.out, args.plot))
    return 0
