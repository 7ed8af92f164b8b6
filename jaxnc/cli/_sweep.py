"""`jaxnc sweep`: design metrics and their gap/ligand gradients over a grid, to CSV (and
plots)."""

from __future__ import annotations

from ._options import (
    add_design_options,
    add_distributed_options,
    add_output_options,
    check_plot,
    design_setup,
    split_names,
    start_distributed,
    wrote,
)

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="design metrics and their gap/ligand gradients over a grid of assemblies",
        description="Simulate the protocol at every grid point of gap x ligand length (and "
        "optionally layers, irradiance, temperature) as vmapped batches sharded over the JAX "
        "devices; write one CSV row per point with each metric, its derivatives with respect "
        "to gap and ligand length (forward mode through the solver) and a status.",
    )
    p.add_argument("--gap-nm", default="1.5:5:16",
                   help="gaps: START:STOP:COUNT or a list (nm; default %(default)s)")
    p.add_argument("--ligand-nm", default="1:2.5:8",
                   help="ligand lengths: START:STOP:COUNT or a list (nm; default %(default)s)")
    p.add_argument("--layers", help="layer counts of a supercrystal, e.g. 1,2,4,8")
    p.add_argument("--irradiance-mw-cm2", help="light-step irradiances to sweep (mW/cm2)")
    p.add_argument("--temperature-k", help="temperatures to sweep (K, every step)")
    add_design_options(p, nz_note=" when --layers is not swept")
    p.add_argument("--metrics", help="comma-separated metrics (default: all six: "
                   "plqy_activated, t90_activation_h, plqy_retained, dark_half_life_h, "
                   "cycle_repeatability, ligand_lost_fraction)")
    p.add_argument("--no-gradients", action="store_true",
                   help="metrics only, without d_<metric>_d_gap_nm / _d_ligand_nm")
    p.add_argument("--chunk-size", type=int, default=128,
                   help="points per batch (default 128)")
    add_output_options(p, out="output CSV file", plot="output PNG: metric maps with gradient "
                       "arrows (and, with --layers, a second figure *_layers.png against layer "
                       "count)")
    p.add_argument("--checkpoint", help="checkpoint file (default OUT.partial.npz), written "
                   "after every chunk and removed when the sweep finishes")
    p.add_argument("--resume", action="store_true",
                   help="skip the chunks already in the checkpoint")
    add_distributed_options(p, shares="each chunk of points is split over every process's "
                            "devices")
    p.set_defaults(run=run)


def run(args) -> int:
    writer = start_distributed(args)  # before anything that touches JAX's devices
    from pathlib import Path

    from ..design import DEFAULT_METRICS, sweep
    from ..errors import ParameterError

    check_plot(args.plot)
    factory, params, protocol = design_setup(args)
    axes = _axes(args)
    metrics = split_names(args.metrics) if args.metrics else DEFAULT_METRICS
    checkpoint = Path(args.checkpoint or f"{args.out}.partial.npz")
    if args.resume and writer and not checkpoint.exists():  # process 0's decides
        raise ParameterError(f"--resume: no checkpoint {checkpoint}")
    result = sweep(factory, params, protocol, metrics=metrics, model=args.model,
                   gradients=not args.no_gradients, chunk_size=args.chunk_size,
                   vector_width=args.vector_width, progress=writer and not args.quiet,
                   checkpoint=checkpoint, resume=args.resume, **axes)
    if not writer:
        return 0
    result.to_csv(args.out)
    figures = _plot(result, args.plot) if args.plot else []
    checkpoint.unlink(missing_ok=True)
    if not args.quiet:
        _print_summary(result, [args.out, *figures])
    return 0


def _axes(args) -> dict:
    """The grid axes the options ask for: gap and ligand length, and any of layers,
    irradiance and temperature."""
    from ..design import parse_grid
    from ..errors import ParameterError

    axes = dict(gap_nm=parse_grid(args.gap_nm, "--gap-nm"),
                ligand_nm=parse_grid(args.ligand_nm, "--ligand-nm"))
    if args.layers:
        if args.assembly != "supercrystal":
            raise ParameterError("--layers sweeps the thickness of a supercrystal; "
                                 f"--assembly {args.assembly} has no layers to sweep")
        axes["layers"] = parse_grid(args.layers, "--layers", integer=True)
    if args.irradiance_mw_cm2:
        axes["irradiance_mw_cm2"] = parse_grid(args.irradiance_mw_cm2, "--irradiance-mw-cm2")
    if args.temperature_k:
        axes["temperature_k"] = parse_grid(args.temperature_k, "--temperature-k")
    return axes


def _plot(result, path: str) -> list[str]:
    """The metric maps at `path` and, over layers, `*_layers` beside it; the files written."""
    from ..plot import plot_sweep, plot_sweep_layers

    plot_sweep(result, path)
    figures = [path]
    if "layers" in result.axes:
        stem, _, ext = path.rpartition(".")
        layers_path = f"{stem}_layers.{ext}"
        plot_sweep_layers(result, layers_path)
        figures.append(layers_path)
    return figures


def _print_summary(result, written: list[str]) -> None:
    import collections

    counts = collections.Counter(result.status.ravel().tolist())
    n = int(sum(counts.values()))
    print(f"{n} points ({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))}) in "
          f"{result.wall_s:.1f} s (first chunk, with compilation, "
          f"{result.first_chunk_s:.1f} s) on {result.settings['devices']} device(s)")
    print("grid best:")
    print("\n".join(_grid_best_lines(result)))
    print(wrote(*written))


def _grid_best_lines(result) -> list[str]:
    from ..design import METRICS, Goal
    from ..errors import ParameterError

    lines = []
    for m in result.metrics:
        try:
            row = result.best(m)
        except ParameterError:
            lines.append(f"  {m:22s} no finite value")
            continue
        where = ", ".join(f"{a} {row[a]:g}" for a in result.axes)
        goal = METRICS[m].goal
        goal = "nearest 0" if goal is Goal.ZERO else goal.value
        lines.append(f"  {m:22s} {goal} {row[m]:.4g} at {where}")
    return lines
