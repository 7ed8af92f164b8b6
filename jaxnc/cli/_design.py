"""`jaxnc design`: gradient-based search for the gap and ligand length that optimise a metric,
to JSON (and a map of the objective)."""

from __future__ import annotations

from ._options import add_design_options, add_output_options, check_plot, design_setup, wrote

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    p = sub.add_parser(
        "design",
        help="gradient-based search for the gap and ligand length that optimise a metric",
        description="Maximise (or minimise) a design metric over gap and ligand length "
        "within bounds and under constraints, by Adam on forward-mode gradients through the "
        "solver from several starts; write the optimum, the objective's value and gradient "
        "there, every metric and every start as JSON.",
    )
    p.add_argument("--objective", default="plqy_retained",
                   help="metric to optimise (default %(default)s)")
    p.add_argument("--goal", choices=("max", "min"),
                   help="maximise or minimise (default: the metric's own)")
    p.add_argument("--bounds", default="gap_nm=1.5:5,ligand_nm=1:2.5",
                   help="NAME=LOW:HIGH,... in nm (default %(default)s)")
    p.add_argument("--constraint", action="append", default=[], metavar="METRIC>=VALUE",
                   help="e.g. 'plqy_activated>=0.6' (repeatable)")
    p.add_argument("--starts", type=int, default=8, help="starting points (default 8)")
    p.add_argument("--seed", type=int, default=0, help="seed of the starts (default 0)")
    p.add_argument("--steps", type=int, default=150, help="Adam steps (default 150)")
    add_design_options(p)
    add_output_options(p, out="output JSON file", plot="output PNG: a 24 x 12 map of the "
                       "objective and the constraints' metrics with the optimum marked")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..design import Constraint, optimize_design
    from ..runtime import write_json_atomic

    check_plot(args.plot)
    factory, params, protocol = design_setup(args)
    constraints = [Constraint.parse(c) for c in args.constraint]
    result = optimize_design(factory, params, protocol, objective=args.objective,
                             goal=args.goal, bounds=_parse_bounds(args.bounds),
                             constraints=constraints, starts=args.starts, seed=args.seed,
                             steps=args.steps, model=args.model,
                             vector_width=args.vector_width, progress=not args.quiet)
    write_json_atomic(args.out, result.to_json())
    if args.plot:
        _plot(result, constraints, factory, params, protocol, args)
    if not args.quiet:
        _print_summary(result, args)
    return 0


def _parse_bounds(text: str) -> dict:
    """`--bounds` `NAME=LOW:HIGH,...` as `{name: (low, high)}`."""
    from ..errors import ParameterError

    bounds = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, rng = item.partition("=")
        lo, colon, hi = rng.partition(":")
        try:
            if not (sep and colon):
                raise ValueError
            bounds[name.strip()] = (float(lo), float(hi))
        except ValueError:
            raise ParameterError(f"--bounds {item!r}: expected NAME=LOW:HIGH, e.g. "
                                 f"gap_nm=1.5:5") from None
    return bounds


def _plot(result, constraints, factory, params, protocol, args) -> None:
    """A 24 x 12 sweep over the bounds, mapping the objective and the constrained metrics
    with the optimum marked."""
    import numpy as np

    from ..design import sweep
    from ..plot import plot_sweep

    (g_lo, g_hi), (l_lo, l_hi) = result.bounds["gap_nm"], result.bounds["ligand_nm"]
    shown = list(dict.fromkeys([args.objective, *(c.metric for c in constraints)]))
    grid = sweep(factory, params, protocol, gap_nm=np.linspace(g_lo, g_hi, 24),
                 ligand_nm=np.linspace(l_lo, l_hi, 12), model=args.model,
                 metrics=list(result.metrics), chunk_size=args.starts,
                 vector_width=args.vector_width, progress=not args.quiet)
    plot_sweep(grid, args.plot, metrics=shown, optimum=result.optimum,
               title=f"{args.objective} ({result.goal}) subject to "
               f"{', '.join(map(str, constraints)) or 'no constraint'}")


def _print_summary(result, args) -> None:
    where = ", ".join(f"{k} {v:.4g}" for k, v in result.optimum.items())
    grad = ", ".join(f"d/d{k} {v:.3g}" for k, v in result.gradient.items())
    print(f"{args.objective} ({result.goal}) = {result.value:.4g} at {where}; {grad} per nm")
    for c in result.constraints:
        print(f"  {c['constraint']}: {c['value']:.4g} ({'met' if c['met'] else 'NOT met'})")
    if result.active:
        print("  active: " + "; ".join(result.active))
    print(f"{'feasible' if result.feasible else 'NOT feasible'}; {len(result.starts)} "
          f"starts, {result.wall_s:.1f} s; {wrote(args.out, args.plot)}")
