"""`jaxnc fit --posterior`: after the fit, the posterior by NUTS (jaxnc.inference.sample), to JSON,
the draws to `.npz`, corner and trace plots."""

from __future__ import annotations

from pathlib import Path

__all__ = ["add_posterior_options", "check_posterior_args", "run_posterior"]


def add_posterior_options(p) -> None:
    g = p.add_argument_group(
        "posterior (--posterior)",
        "Sample the posterior of the fitted parameters with NUTS, starting from the fit; "
        "--out then holds the posterior (medians, credible intervals, R-hat, ESS, "
        "divergences) with the fit under 'fit', the draws go to --draws-out and --plot "
        "also writes NAME_corner and NAME_trace images; --checkpoint / --resume then apply "
        "to the chains.")
    g.add_argument("--posterior", action="store_true", help="sample the posterior")
    g.add_argument("--chains", type=int, default=4, help="chains, run side by side (default 4)")
    g.add_argument("--warmup", type=int, default=500,
                   help="warm-up steps per chain, discarded (default 500)")
    g.add_argument("--draws", type=int, default=1000, help="draws kept per chain (default 1000)")
    g.add_argument("--prior", action="append", default=[], metavar="NAME=SPEC",
                   help="prior of a parameter: normal:MEDIAN,SD (median in its units, sd in "
                   "its transformed space: log for rates) or flat; default from its source "
                   "(repeatable)")
    g.add_argument("--noise-plqy", type=float,
                   help="standard deviation of the PLQY data (fraction) if known; default: "
                   "integrated out")
    g.add_argument("--target-accept", type=float, default=0.8,
                   help="warm-up's target acceptance (default 0.8; raise on divergences)")
    g.add_argument("--draws-out", help="draws file (.npz; default: --out with .npz)")


def check_posterior_args(args) -> None:
    """Refuse posterior options without --posterior, and a bad --prior, before the fit."""
    from ..errors import ParameterError
    from ..inference import Prior

    given = [o for o, v in (("--draws-out", args.draws_out), ("--prior", args.prior),
                            ("--noise-plqy", args.noise_plqy)) if v]
    if given and not args.posterior:
        raise ParameterError(f"{', '.join(given)} only apply with --posterior")
    if args.posterior and (args.distributed or args.coordinator):
        raise ParameterError("--posterior runs in one process (its chains side by side); "
                             "drop --distributed")
    if args.posterior and args.method != "lm":
        raise ParameterError("--posterior starts from a Levenberg-Marquardt fit (--method lm)")
    args.priors = {}
    for item in args.prior:
        name, sep, spec = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--prior {item!r}: expected NAME=normal:MEDIAN,SD or "
                                 f"NAME=flat")
        args.priors[name.strip()] = Prior.parse(spec, f"--prior {name.strip()}")


def run_posterior(args, data, assembly, params, result, writer: bool) -> int:
    """Sample from `result` (the fit), write JSON, draws and plots, print the summary."""
    from ..inference import sample
    from ..runtime import write_json_atomic
    from ._options import noise_from_args, wrote

    post = sample(data, assembly, params, result.free, model=args.model,
                  per_sample=result.per_sample, priors=args.priors,
                  noise_plqy=args.noise_plqy, chains=args.chains, warmup=args.warmup,
                  draws=args.draws, seed=args.seed, start=result,
                  target_accept=args.target_accept, protocol=args.protocol,
                  irradiance_mw_cm2=args.irradiance_mw_cm2, max_steps=args.max_steps,
                  noise=noise_from_args(args.noise), progress=not args.quiet,
                  checkpoint=args.checkpoint, resume=args.resume)
    draws_out = args.draws_out or str(Path(args.out).with_suffix(".npz"))
    out = post.to_json()
    out["fit"] = result.to_json()  # the whole fit the chains started from
    out["settings"].update(data=list(args.data), column=args.column, assembly=args.assembly,
                           assembly_of=args.assembly_of, draws_file=draws_out)
    post.save_draws(draws_out)
    write_json_atomic(args.out, out)
    plots = []
    if args.plot:
        from ..plot import plot_corner, plot_fit, plot_trace

        path = Path(args.plot)
        corner = path.with_name(f"{path.stem}_corner{path.suffix}")
        trace = path.with_name(f"{path.stem}_trace{path.suffix}")
        plot_fit(data, result, assembly, path)
        plot_corner(post, corner)
        plot_trace(post, trace)
        plots = [str(path), str(corner), str(trace)]
    if not args.quiet:
        print("\n".join(post.lines()))
        if post.divergences:
            print(f"warning: {post.divergences} divergent transitions; raise "
                  f"--target-accept (e.g. 0.95) or look at the corner plot")
        if post.rhat_max > 1.01:
            print(f"warning: R-hat {post.rhat_max:.3f} > 1.01: the chains disagree; run "
                  f"longer (--warmup, --draws)")
        print(wrote(args.out, draws_out, *plots))
    return 0
