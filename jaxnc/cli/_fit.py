"""`jaxnc fit`: model parameters fitted to measured curves, to JSON (and a plot)."""

from __future__ import annotations

from ._options import (
    add_data_assembly_options,
    add_data_option,
    add_distributed_options,
    add_model_option,
    add_output_options,
    add_set_option,
    check_plot,
    noise_from_args,
    params_from_args,
    read_data,
    sample_assemblies,
    split_names,
    start_distributed,
    wrote,
)
from ._posterior import add_posterior_options, check_posterior_args, run_posterior

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    p = sub.add_parser(
        "fit",
        help="fit model parameters to measured curves (PLQY, PL counts, lifetimes, spectra)",
        description="Fit free parameters of the model to measured curves (PLQY, PL intensity "
        "in counts under the light, lifetimes, spectra; several files linked by sample, each "
        "kind weighted by its noise) with derivatives "
        "through the solver (Levenberg-Marquardt on forward-mode Jacobians by default); "
        "all samples of the file share the --free parameters and are solved as one batch; "
        "write values, standard errors and correlations as JSON.",
    )
    add_data_option(p, what="measured curves")
    add_output_options(p, out="output JSON file", plot="output PNG: data, fit and residuals")
    p.add_argument("--free", default="auto",
                   help="comma-separated parameter names to fit, or auto (default): those "
                   "these data can determine, chosen from the model's sensitivities and the "
                   "data's noise; the choice and the reasons are printed")
    p.add_argument("--per-sample", default="", metavar="NAME,...",
                   help="parameters fitted separately for every sample (e.g. "
                   "coverage_initial); default none")
    add_model_option(p)
    p.add_argument("--method", choices=("lm", "adam-lbfgs"), default="lm",
                   help="optimiser: Levenberg-Marquardt (default) or optax Adam then L-BFGS")
    p.add_argument("--starts", default="auto",
                   help="number of starts (multi-start), or auto (default: 4 for mean_field, "
                   "1 for field)")
    p.add_argument("--seed", type=int, default=0, help="seed of the extra starts (default 0)")
    add_data_assembly_options(p)
    p.add_argument("--protocol", help="protocol for every sample (default: from the light "
                   "and temperature_k columns)")
    add_set_option(p, meaning="starting value of a parameter")
    p.add_argument("--noise", action="append", default=[], metavar="KIND=SD",
                   help="the measurement noise of one kind of data, one standard deviation: "
                   "plqy (fraction), lifetime (ns), intensity (relative, 0.02 = 2 %%), "
                   "spectrum (fraction of the maximum); repeatable; default: estimated from "
                   "the data's scatter")
    p.add_argument("--max-iter", type=int, default=100,
                   help="iterations per start (default 100)")
    p.add_argument("--max-steps", type=int, default=16384,
                   help="solver steps allowed per protocol step (default 16384)")
    p.add_argument("--checkpoint", help="checkpoint file (.npz): saved every "
                   "--checkpoint-every iterations and on Ctrl-C")
    p.add_argument("--checkpoint-every", type=int, default=10, help="default 10")
    p.add_argument("--resume", action="store_true",
                   help="continue from --checkpoint instead of starting over")
    add_posterior_options(p)
    add_distributed_options(p, shares="the samples are split over every process's devices "
                            "(each solves its samples' residuals and Jacobian; --method lm)")
    p.set_defaults(run=run)


def run(args) -> int:
    writer = start_distributed(args)  # before anything that touches JAX's devices
    from ..errors import ParameterError
    from ..fitting import fit
    from ..runtime import write_json_atomic

    check_plot(args.plot)
    check_posterior_args(args)
    if args.resume and not args.checkpoint:
        raise ParameterError("--resume needs --checkpoint FILE")
    data = read_data(args, echo=writer and not args.quiet)
    params = params_from_args(args)
    free = "auto" if args.free.strip() == "auto" else split_names(args.free)
    starts = "auto" if args.starts.strip() == "auto" else _count(args.starts, "--starts")
    assembly = sample_assemblies(args, data)
    posterior = args.posterior  # then --checkpoint and --resume are the chains'
    result = fit(data, assembly, params, free, model=args.model,
                 per_sample=split_names(args.per_sample), protocol=args.protocol,
                 irradiance_mw_cm2=args.irradiance_mw_cm2, noise=noise_from_args(args.noise),
                 method=args.method,
                 starts=starts, seed=args.seed, max_iter=args.max_iter,
                 max_steps=args.max_steps, progress=writer and not args.quiet,
                 checkpoint=None if posterior else args.checkpoint,
                 checkpoint_every=args.checkpoint_every,
                 resume=args.resume and not posterior)
    if posterior:
        if not args.quiet and result.free_choice is not None:
            print("\n".join(result.free_choice.lines()))
        return run_posterior(args, data, assembly, params, result, writer)
    if not writer:
        return 0
    out = result.to_json()
    out["settings"].update(data=list(args.data), column=args.column, assembly=args.assembly,
                           assembly_of=args.assembly_of)
    write_json_atomic(args.out, out)
    if args.plot:
        from ..plot import plot_fit

        plot_fit(data, result, assembly, args.plot)
    if not args.quiet:
        if result.free_choice is not None:
            print("\n".join(result.free_choice.lines()))
        _print_summary(result, args)
    return 0


def _count(text: str, option: str) -> int:
    from ..errors import ParameterError

    try:
        value = int(text)
    except ValueError:
        raise ParameterError(f"{option} {text!r}: expected a whole number or auto") from None
    return value


def _print_summary(result, args) -> None:
    lines = result.lines()
    lines[-1] += f"; {wrote(args.out, args.plot)}"
    print("\n".join(lines))
