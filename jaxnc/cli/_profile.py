"""`jaxnc profile`: the profile likelihood of one parameter, to JSON (and a plot)."""

from __future__ import annotations

from ._options import (
    add_data_assembly_options,
    add_data_option,
    add_model_option,
    add_output_options,
    add_set_option,
    check_plot,
    params_from_args,
    read_data,
    sample_assemblies,
    split_names,
    wrote,
)

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    p = sub.add_parser(
        "profile",
        help="profile likelihood of one parameter (the others re-fitted along a grid)",
        description="Fit all free parameters, then fix one at each value of a grid around its "
        "optimum and fit the others again; write the profile, its likelihood-ratio 68/95 %% "
        "intervals (open where the profile stays below the level), the Gauss-Newton interval "
        "for comparison, and whether the profile is flat (not determined by the data).",
    )
    add_data_option(p, what="PLQY curves")
    p.add_argument("--param", required=True, help="the profiled parameter")
    p.add_argument("--free", default="", metavar="NAME,...",
                   help="other global parameters fitted at every grid point (default none)")
    p.add_argument("--per-sample", default="", metavar="NAME,...",
                   help="parameters fitted separately for every sample")
    p.add_argument("--points", type=int, default=13,
                   help="grid points, odd (default 13)")
    p.add_argument("--span", type=float, default=4.0,
                   help="grid half width in standard errors of the full fit (transformed "
                   "space; default 4)")
    add_model_option(p)
    add_data_assembly_options(p)
    add_set_option(p, meaning="starting value of a parameter")
    p.add_argument("--max-iter", type=int, default=100,
                   help="iterations of each fit (default 100)")
    add_output_options(p, out="output JSON file", plot="output PNG: the profile")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..fitting import profile
    from ..runtime import write_json_atomic

    check_plot(args.plot)
    data = read_data(args, echo=not args.quiet)
    params = params_from_args(args)
    result = profile(data, sample_assemblies(args, data), params, args.param,
                     split_names(args.free) if args.free else [],
                     per_sample=split_names(args.per_sample) if args.per_sample else [],
                     model=args.model, points=args.points, span=args.span,
                     irradiance_mw_cm2=args.irradiance_mw_cm2, max_iter=args.max_iter,
                     progress=not args.quiet)
    write_json_atomic(args.out, result.to_json())
    if args.plot:
        from ..plot import plot_profile

        plot_profile(result, args.plot)
    if not args.quiet:
        lo, hi = result.ci95
        show = lambda b: "open" if b is None else f"{b:.5g}"  # noqa: E731
        print(f"{result.parameter}: optimum {result.optimum:.5g}, 95 % likelihood-ratio "
              f"interval [{show(lo)}, {show(hi)}], Gauss-Newton "
              f"[{show(result.laplace_ci95[0])}, {show(result.laplace_ci95[1])}]"
              + ("; flat: these data do not determine it" if result.flat else ""))
        print(wrote(args.out, args.plot))
    return 0
