"""`jaxnc simulate`: one assembly through a light/dark protocol, to CSV (and a plot)."""

from __future__ import annotations

from ._options import (
    add_assembly_options,
    add_model_option,
    add_output_options,
    add_set_option,
    add_solver_options,
    assembly_from_args,
    check_plot,
    params_from_args,
    wrote,
)

__all__ = ["add_parser", "run", "summary_table"]


def add_parser(sub) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate an assembly through a light/dark protocol",
        description="Simulate an assembly through a protocol; write the PLQY, average lifetime "
        "and ligand budget over time as CSV, optionally a PNG plot.",
    )
    add_assembly_options(p)
    p.add_argument("--protocol", default="light 468nm 3h; dark 600h",
                   help="protocol text, e.g. 'light 468nm 10mW/cm2 3h; dark 600h at 318K'")
    # One run affords the full lattice; the commands that solve many times default to
    # mean_field.
    add_model_option(p, default="field")
    add_set_option(p)
    add_solver_options(p)
    add_output_options(p, out="output CSV file", plot="output PNG file")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..protocol import Protocol
    from ..solve import simulate

    check_plot(args.plot)
    protocol = Protocol.parse(args.protocol)
    params = params_from_args(args)
    assembly = assembly_from_args(args)
    sol = simulate(assembly, params, protocol, model=args.model, solver=args.solver,
                   saves_per_step=args.saves_per_step, progress=not args.quiet)
    sol.to_csv(args.out)
    if args.plot:
        from ..plot import plot_solutions

        plot_solutions({f"{args.assembly} ({args.model})": sol}, args.plot,
                       title=str(protocol))
    if not args.quiet:
        print(summary_table([(args.assembly, sol)]))
        print(wrote(args.out, args.plot))
    return 0


def summary_table(rows: list[tuple[str, object]]) -> str:
    """A plain-text table: label, PLQY start/max/end (%), lifetime end (ns), ligand lost (%)."""
    import numpy as np

    head = (f"{'sample':24s} {'PLQY0 %':>8s} {'max %':>7s} {'end %':>7s} "
            f"{'tau_end ns':>10s} {'lost %':>7s}")
    lines = [head, "-" * len(head)]
    for label, sol in rows:
        pl = 100 * np.asarray(sol.plqy)
        lost = 100 * float(sol.ligand_lost[-1] / sol.ligand_total[0])
        lines.append(f"{label:24s} {pl[0]:8.1f} {pl.max():7.1f} {pl[-1]:7.1f} "
                     f"{float(sol.lifetime_ns[-1]):10.1f} {lost:7.2f}")
    return "\n".join(lines)
