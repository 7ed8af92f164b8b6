"""The `jaxnc` command line. Bad input: one line on stderr naming what is wrong, exit code 2."""

from __future__ import annotations

import argparse
import sys

__all__ = ["main", "build_parser"]

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exits 2."""

    def error(self, message):
        raise _UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


class _UsageError(Exception):
    pass


def _parse_set(items: list[str]) -> dict[str, float]:
    from .._errors import ParameterError

    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise ParameterError(f"--set expects NAME=VALUE, got {item!r}")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ParameterError(f"--set {name}: {value!r} is not a number") from None
    return out


def _add_assembly_args(p) -> None:
    p.add_argument("--assembly", choices=("isolated", "monolayer", "supercrystal"),
                   default="supercrystal", help="assembly type (default: supercrystal)")
    p.add_argument("--nx", type=int, default=8, help="cubes along x (default 8)")
    p.add_argument("--ny", type=int, default=8, help="cubes along y (default 8)")
    p.add_argument("--nz", type=int, default=4, help="layers of a supercrystal (default 4)")
    p.add_argument("--n", type=int, default=16, help="number of isolated cubes (default 16)")
    p.add_argument("--edge-nm", type=float, default=9.8, help="cube edge (nm, default 9.8)")
    p.add_argument("--gap-nm", type=float, default=3.0, help="inter-cube gap (nm, default 3.0)")
    p.add_argument("--ligand-nm", type=float, default=1.6,
                   help="ligand length (nm, default 1.6)")


def _add_design_args(p) -> None:
    p.add_argument("--assembly", choices=("isolated", "monolayer", "supercrystal"),
                   default="supercrystal", help="assembly type (default: supercrystal)")
    p.add_argument("--nx", type=int, default=4, help="cubes along x (default 4)")
    p.add_argument("--ny", type=int, default=4, help="cubes along y (default 4)")
    p.add_argument("--nz", type=int, default=4,
                   help="layers of a supercrystal when --layers is not swept (default 4)")
    p.add_argument("--n", type=int, default=16, help="number of isolated cubes (default 16)")
    p.add_argument("--edge-nm", type=float, default=9.8, help="cube edge (nm, default 9.8)")
    p.add_argument("--protocol", help="protocol text (default: 3 h of 468 nm light at 10 "
                   "mW/cm2, 100 h dark, 3 h light; jaxnc.design.DEFAULT_PROTOCOL)")
    p.add_argument("--model", choices=("field", "mean_field"), default="mean_field",
                   help="model (default mean_field)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a parameter of the default set (repeatable)")
    p.add_argument("--vector-width", type=int,
                   help="points per device solved in lockstep (default: all on a GPU; 16 "
                   "mean_field / 4 field on a CPU)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="jaxnc",
        description=(
            "Differentiable model of light-driven, reversible PL enhancement in CsPbBr3 "
            "nanocube assemblies (Hashimoto et al., Nanoscale Adv. 2024)."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sim = sub.add_parser(
        "simulate",
        help="simulate an assembly through a light/dark protocol",
        description="Simulate an assembly through a protocol; write the PLQY, average lifetime "
        "and ligand budget over time as CSV, optionally a PNG plot.",
    )
    _add_assembly_args(sim)
    sim.add_argument("--protocol", default="light 468nm 3h; dark 600h",
                     help="protocol text, e.g. 'light 468nm 10mW/cm2 3h; dark 600h at 318K'")
    sim.add_argument("--model", choices=("field", "mean_field"), default="field",
                     help="full 3D lattice or one cube per layer (default field)")
    sim.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                     help="override a parameter of the default set (repeatable)")
    sim.add_argument("--solver", choices=("auto", "ros3", "ros2", "kvaerno5"), default="auto",
                     help="integrator (default auto: matrix-free ros3 for field, kvaerno5 for "
                     "mean_field)")
    sim.add_argument("--saves-per-step", type=int, default=61,
                     help="saved times per protocol step (default 61)")
    sim.add_argument("--out", required=True, help="output CSV file")
    sim.add_argument("--plot", help="output PNG file")
    sim.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    fp = sub.add_parser(
        "fit",
        help="fit model parameters to measured PLQY curves",
        description="Fit free parameters of the model to PLQY curves with derivatives "
        "through the solver (Levenberg-Marquardt on forward-mode Jacobians by default); "
        "all samples of the file share the --free parameters and are solved as one batch; "
        "write values, standard errors and correlations as JSON.",
    )
    fp.add_argument("data", help="PLQY CSV file (time_h, plqy or plqy_percent, light, ...)")
    fp.add_argument("--out", required=True, help="output JSON file")
    fp.add_argument("--free", default="k_desorption_per_h,k_adsorption_per_h,"
                    "k_trap_nonradiative_per_ns",
                    help="comma-separated parameter names to fit (default: %(default)s)")
    fp.add_argument("--per-sample", default="", metavar="NAME,...",
                    help="parameters fitted separately for every sample (e.g. "
                    "coverage_initial); default none")
    fp.add_argument("--model", choices=("field", "mean_field"), default="mean_field",
                    help="model (default mean_field)")
    fp.add_argument("--method", choices=("lm", "adam-lbfgs"), default="lm",
                    help="optimiser: Levenberg-Marquardt (default) or optax Adam then L-BFGS")
    fp.add_argument("--starts", type=int, default=1,
                    help="number of starts (multi-start; default 1)")
    fp.add_argument("--seed", type=int, default=0, help="seed of the extra starts (default 0)")
    _add_assembly_args(fp)
    fp.add_argument("--assembly-of", action="append", default=[], metavar="SAMPLE=KIND",
                    help="a different assembly kind for one sample (isolated, monolayer or "
                    "supercrystal, same sizes; repeatable), for joint fits of e.g. arrays and "
                    "isolated cubes")
    fp.add_argument("--protocol", help="protocol for every sample (default: from the light "
                    "and temperature_k columns)")
    fp.add_argument("--irradiance-mw-cm2", type=float, default=10.0,
                    help="irradiance of light steps read from the data (default 10)")
    fp.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="starting value of a parameter (repeatable)")
    fp.add_argument("--max-iter", type=int, default=100,
                    help="iterations per start (default 100)")
    fp.add_argument("--plot", help="output PNG: data, fit and residuals")
    fp.add_argument("--checkpoint", help="checkpoint file (.npz): saved every "
                    "--checkpoint-every iterations and on Ctrl-C")
    fp.add_argument("--checkpoint-every", type=int, default=10, help="default 10")
    fp.add_argument("--resume", action="store_true",
                    help="continue from --checkpoint instead of starting over")
    fp.add_argument("--quiet", action="store_true", help="no progress bar, no summary")

    kin = sub.add_parser(
        "kinetics",
        help="rate-law fits to dark decays, then an Arrhenius line",
        description="Fit a rate law to the dark decay (rows with light == 0, or all rows) of "
        "each sample, then ln k against 1/T over the samples' temperature_k.",
    )
    kin.add_argument("data", help="PLQY CSV file (columns time_h, plqy or plqy_percent, ...)")
    kin.add_argument("--law", choices=("pso", "first-order"), default="pso",
                     help="rate law (default pso: pseudo-second-order)")
    kin.add_argument("--out", required=True, help="output JSON file")
    kin.add_argument("--plot", help="output PNG: Arrhenius plot")

    sw = sub.add_parser(
        "sweep",
        help="design metrics and their gap/ligand gradients over a grid of assemblies",
        description="Simulate the protocol at every grid point of gap x ligand length (and "
        "optionally layers, irradiance, temperature) as vmapped batches sharded over the JAX "
        "devices; write one CSV row per point with each metric, its derivatives with respect "
        "to gap and ligand length (forward mode through the solver) and a status.",
    )
    sw.add_argument("--gap-nm", default="1.5:5:16",
                    help="gaps: START:STOP:COUNT or a list (nm; default %(default)s)")
    sw.add_argument("--ligand-nm", default="1:2.5:8",
                    help="ligand lengths: START:STOP:COUNT or a list (nm; default %(default)s)")
    sw.add_argument("--layers", help="layer counts of a supercrystal, e.g. 1,2,4,8")
    sw.add_argument("--irradiance-mw-cm2", help="light-step irradiances to sweep (mW/cm2)")
    sw.add_argument("--temperature-k", help="temperatures to sweep (K, every step)")
    _add_design_args(sw)
    sw.add_argument("--metrics", help="comma-separated metrics (default: all six: "
                    "plqy_activated, t90_activation_h, plqy_retained, dark_half_life_h, "
                    "cycle_repeatability, ligand_lost_fraction)")
    sw.add_argument("--no-gradients", action="store_true",
                    help="metrics only, without d_<metric>_d_gap_nm / _d_ligand_nm")
    sw.add_argument("--chunk-size", type=int, default=128,
                    help="points per batch (default 128)")
    sw.add_argument("--out", required=True, help="output CSV file")
    sw.add_argument("--plot", help="output PNG: metric maps with gradient arrows (and, with "
                    "--layers, a second figure *_layers.png against layer count)")
    sw.add_argument("--checkpoint", help="checkpoint file (default OUT.partial.npz), written "
                    "after every chunk and removed when the sweep finishes")
    sw.add_argument("--resume", action="store_true",
                    help="skip the chunks already in the checkpoint")
    sw.add_argument("--quiet", action="store_true", help="no progress bar, no summary")

    de = sub.add_parser(
        "design",
        help="gradient-based search for the gap and ligand length that optimise a metric",
        description="Maximise (or minimise) a design metric over gap and ligand length "
        "within bounds and under constraints, by Adam on forward-mode gradients through the "
        "solver from several starts; write the optimum, the objective's value and gradient "
        "there, every metric and every start as JSON.",
    )
    de.add_argument("--objective", default="plqy_retained",
                    help="metric to optimise (default %(default)s)")
    de.add_argument("--goal", choices=("max", "min"),
                    help="maximise or minimise (default: the metric's own)")
    de.add_argument("--bounds", default="gap_nm=1.5:5,ligand_nm=1:2.5",
                    help="NAME=LOW:HIGH,... in nm (default %(default)s)")
    de.add_argument("--constraint", action="append", default=[], metavar="METRIC>=VALUE",
                    help="e.g. 'plqy_activated>=0.6' (repeatable)")
    de.add_argument("--starts", type=int, default=8, help="starting points (default 8)")
    de.add_argument("--seed", type=int, default=0, help="seed of the starts (default 0)")
    de.add_argument("--steps", type=int, default=150, help="Adam steps (default 150)")
    _add_design_args(de)
    de.add_argument("--out", required=True, help="output JSON file")
    de.add_argument("--plot", help="output PNG: a 24 x 12 map of the objective and the "
                    "constraints' metrics with the optimum marked")
    de.add_argument("--quiet", action="store_true", help="no progress bar, no summary")

    rep = sub.add_parser(
        "reproduce",
        help="run a paper's experiments with the default parameters and compare",
        description="Run the experiments of a paper with Parameters.hashimoto2024() and write "
        "its figures and a table of each stated number beside the model's.",
    )
    rep.add_argument("paper", choices=("hashimoto2024",),
                     help="which paper (hashimoto2024: Nanoscale Adv. 2024, 6, 5563)")
    rep.add_argument("--out", required=True, help="output folder (created if missing)")
    rep.add_argument("--model", choices=("field", "mean_field"), default="mean_field",
                     help="model (default mean_field: about a minute; field: many minutes)")
    rep.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def _cmd_fit(args) -> int:
    from .._errors import ParameterError
    from .._io import write_json_atomic
    from ..fit import Dataset, fit
    from ..parameters import Parameters

    if args.plot:
        from ..plot import check_plot_path

        check_plot_path(args.plot)
    if args.resume and not args.checkpoint:
        raise ParameterError("--resume needs --checkpoint FILE")
    data = Dataset.from_csv(args.data)
    params = Parameters.hashimoto2024().replace(**_parse_set(args.set))
    free = [n.strip() for n in args.free.split(",") if n.strip()]
    per_sample = [n.strip() for n in args.per_sample.split(",") if n.strip()]
    assembly = _assembly_from_args(args)
    if args.assembly_of:
        kinds = {}
        for item in args.assembly_of:
            sample, _, kind = item.partition("=")
            if kind not in ("isolated", "monolayer", "supercrystal"):
                raise ParameterError(f"--assembly-of {item!r}: expected SAMPLE=KIND with KIND "
                                     f"isolated, monolayer or supercrystal")
            if sample not in data.samples:
                raise ParameterError(f"--assembly-of {item!r}: no sample {sample!r} in "
                                     f"{args.data} (samples: {', '.join(data.samples)})")
            kinds[sample] = kind
        built = {k: _assembly_from_args(argparse.Namespace(**{**vars(args), "assembly": k}))
                 for k in set(kinds.values())}
        assembly = {s: built[kinds[s]] if s in kinds else assembly for s in data.samples}
    result = fit(data, assembly, params, free, model=args.model, per_sample=per_sample,
                 protocol=args.protocol, irradiance_mw_cm2=args.irradiance_mw_cm2,
                 method=args.method, starts=args.starts, seed=args.seed,
                 max_iter=args.max_iter, progress=not args.quiet,
                 checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every,
                 resume=args.resume)
    out = result.to_json()
    out["settings"].update(data=str(args.data), assembly=args.assembly,
                           assembly_of=args.assembly_of)
    write_json_atomic(args.out, out)
    if args.plot:
        from ..plot import plot_fit

        plot_fit(data, result, assembly, args.plot)
    if not args.quiet:
        for name in free:
            print(f"{name:30s} {result.values[name]:12.5g} +- {result.stderr[name]:.2g}")
        for sample, values in result.sample_values.items():
            for name, value in values.items():
                label = f"{name}[{sample}]"
                print(f"{label:30s} {value:12.5g} +- "
                      f"{result.sample_stderr[sample][name]:.2g}")
        print(f"rmse_plqy {result.rmse_plqy:.4f}, {result.iterations} iterations, "
              f"{result.wall_s:.1f} s; wrote {args.out}" + (f" and {args.plot}" if args.plot
                                                           else ""))
    return 0


def _cmd_kinetics(args) -> int:
    from .._io import write_json_atomic
    from ..fit import Dataset, kinetics

    if args.plot:
        from ..plot import check_plot_path

        check_plot_path(args.plot)
    result = kinetics(Dataset.from_csv(args.data), law=args.law)
    out = result.to_json()
    out["settings"] = dict(data=str(args.data), law=args.law)
    write_json_atomic(args.out, out)
    if args.plot:
        from ..plot import plot_arrhenius

        plot_arrhenius(result, args.plot)
    for entry in out["rate_constants"]:
        print(f"{entry['sample']:16s} T = {entry['temperature_k']:7.2f} K  "
              f"k = {entry['k']:.4g} +- {entry['stderr']:.2g}")
    if "Ea_kj_mol" in out:
        print(f"Ea = {out['Ea_kj_mol']:.2f} +- {out['Ea_stderr_kj_mol']:.2f} kJ/mol")
    print(f"wrote {args.out}" + (f" and {args.plot}" if args.plot else ""))
    return 0


def _cmd_reproduce(args) -> int:
    from pathlib import Path

    from .._io import write_csv_text_atomic, write_json_atomic
    from ..fit import hashimoto2024
    from ..plot import plot_reproduction

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        from .._errors import ParameterError

        raise ParameterError(f"--out {args.out}: exists and is not a folder")
    rep = hashimoto2024(model=args.model, progress=None if args.quiet else print)
    out.mkdir(parents=True, exist_ok=True)
    table = rep.table_markdown()
    with _atomic_text(out / "comparison.md") as fh:
        fh.write(f"# Hashimoto et al. 2024 against jaxnc ({rep.model}, default parameters)\n\n")
        fh.write(table)
    write_csv_text_atomic(out / "comparison.csv", rep.rows,
                          ("quantity", "unit", "paper", "model", "difference", "note"))
    kin = rep.kinetics.to_json()
    kin["settings"] = dict(source="simulated dark decays", model=rep.model)
    write_json_atomic(out / "kinetics.json", kin)
    figures = plot_reproduction(rep, out)
    if not args.quiet:
        print(table)
        print(f"wrote {out / 'comparison.md'}, comparison.csv, kinetics.json and "
              f"{', '.join(Path(f).name for f in figures)}")
    return 0


def _design_setup(args):
    from ..design import DEFAULT_PROTOCOL, film
    from ..parameters import Parameters
    from ..protocol import Protocol

    protocol = Protocol.parse(args.protocol or DEFAULT_PROTOCOL)
    params = Parameters.hashimoto2024().replace(**_parse_set(args.set))
    factory = film(args.assembly, nx=args.nx, ny=args.ny, nz=args.nz, n=args.n,
                   edge_nm=args.edge_nm)
    return factory, params, protocol


def _grid_best_lines(result) -> list[str]:
    from .._errors import ParameterError
    from ..design import METRICS

    lines = []
    for m in result.metrics:
        try:
            row = result.best(m)
        except ParameterError:
            lines.append(f"  {m:22s} no finite value")
            continue
        where = ", ".join(f"{a} {row[a]:g}" for a in result.axes)
        goal = "nearest 0" if METRICS[m].goal == "zero" else METRICS[m].goal
        lines.append(f"  {m:22s} {goal} {row[m]:.4g} at {where}")
    return lines


def _cmd_sweep(args) -> int:
    import collections
    from pathlib import Path

    from .._errors import ParameterError
    from ..design import DEFAULT_METRICS, parse_grid, sweep

    if args.plot:
        from ..plot import check_plot_path

        check_plot_path(args.plot)
    factory, params, protocol = _design_setup(args)
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
    metrics = ([m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics
               else DEFAULT_METRICS)
    checkpoint = Path(args.checkpoint or f"{args.out}.partial.npz")
    if args.resume and not checkpoint.exists():
        raise ParameterError(f"--resume: no checkpoint {checkpoint}")
    result = sweep(factory, params, protocol, metrics=metrics, model=args.model,
                   gradients=not args.no_gradients, chunk_size=args.chunk_size,
                   vector_width=args.vector_width, progress=not args.quiet,
                   checkpoint=checkpoint, resume=args.resume, **axes)
    result.to_csv(args.out)
    figures = []
    if args.plot:
        from ..plot import plot_sweep, plot_sweep_layers

        plot_sweep(result, args.plot)
        figures.append(args.plot)
        if "layers" in result.axes:
            stem, dot, ext = args.plot.rpartition(".")
            layers_path = f"{stem}_layers.{ext}"
            plot_sweep_layers(result, layers_path)
            figures.append(layers_path)
    checkpoint.unlink(missing_ok=True)
    if not args.quiet:
        counts = collections.Counter(result.status.ravel().tolist())
        n = int(sum(counts.values()))
        print(f"{n} points ({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))}) in "
              f"{result.wall_s:.1f} s (first chunk, with compilation, "
              f"{result.first_chunk_s:.1f} s) on {result.settings['devices']} device(s)")
        print("grid best:")
        print("\n".join(_grid_best_lines(result)))
        print(f"wrote {args.out}" + "".join(f" and {f}" for f in figures))
    return 0


def _parse_bounds(text: str) -> dict:
    from .._errors import ParameterError

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


def _cmd_design(args) -> int:
    from .._io import write_json_atomic
    from ..design import Constraint, optimize_design

    if args.plot:
        from ..plot import check_plot_path

        check_plot_path(args.plot)
    factory, params, protocol = _design_setup(args)
    constraints = [Constraint.parse(c) for c in args.constraint]
    result = optimize_design(factory, params, protocol, objective=args.objective,
                             goal=args.goal, bounds=_parse_bounds(args.bounds),
                             constraints=constraints, starts=args.starts, seed=args.seed,
                             steps=args.steps, model=args.model,
                             vector_width=args.vector_width, progress=not args.quiet)
    write_json_atomic(args.out, result.to_json())
    if args.plot:
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
    if not args.quiet:
        where = ", ".join(f"{k} {v:.4g}" for k, v in result.optimum.items())
        grad = ", ".join(f"d/d{k} {v:.3g}" for k, v in result.gradient.items())
        print(f"{args.objective} ({result.goal}) = {result.value:.4g} at {where}; {grad} "
              f"per nm")
        for c in result.constraints:
            print(f"  {c['constraint']}: {c['value']:.4g} ({'met' if c['met'] else 'NOT met'})")
        if result.active:
            print("  active: " + "; ".join(result.active))
        print(f"{'feasible' if result.feasible else 'NOT feasible'}; {len(result.starts)} "
              f"starts, {result.wall_s:.1f} s; wrote {args.out}"
              + (f" and {args.plot}" if args.plot else ""))
    return 0


def _atomic_text(path):
    import contextlib

    from .._io import atomic_path

    @contextlib.contextmanager
    def opened():
        with atomic_path(path) as tmp, open(tmp, "w") as fh:
            yield fh

    return opened()


def _assembly_from_args(args):
    from ..geometry import Assembly

    lengths = dict(edge_nm=args.edge_nm, gap_nm=args.gap_nm, ligand_nm=args.ligand_nm)
    if args.assembly == "isolated":
        return Assembly.isolated(args.n, **lengths)
    if args.assembly == "monolayer":
        return Assembly.monolayer(args.nx, args.ny, **lengths)
    return Assembly.supercrystal(args.nx, args.ny, args.nz, **lengths)


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


def _cmd_simulate(args) -> int:
    from ..parameters import Parameters
    from ..protocol import Protocol
    from ..solve import simulate

    if args.plot:
        from ..plot import check_plot_path

        check_plot_path(args.plot)  # before a long run, not after it
    protocol = Protocol.parse(args.protocol)
    params = Parameters.hashimoto2024().replace(**_parse_set(args.set))
    assembly = _assembly_from_args(args)
    sol = simulate(assembly, params, protocol, model=args.model, solver=args.solver,
                   saves_per_step=args.saves_per_step, progress=not args.quiet)
    sol.to_csv(args.out)
    if args.plot:
        from ..plot import plot_solutions

        plot_solutions({f"{args.assembly} ({args.model})": sol}, args.plot,
                       title=str(protocol))
    if not args.quiet:
        print(summary_table([(args.assembly, sol)]))
        print(f"wrote {args.out}" + (f" and {args.plot}" if args.plot else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    from .._errors import JaxncError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_BAD_INPUT
        commands = {"simulate": _cmd_simulate, "fit": _cmd_fit, "kinetics": _cmd_kinetics,
                    "sweep": _cmd_sweep, "design": _cmd_design, "reproduce": _cmd_reproduce}
        return commands[args.command](args)
    except _UsageError as e:
        print(str(e), file=sys.stderr)
        return EXIT_BAD_INPUT
    except JaxncError as e:
        print(f"jaxnc: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:
        print(f"jaxnc: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        ckpt = getattr(locals().get("args"), "checkpoint", None)
        where = f"; state saved in {ckpt}, continue with --resume" if ckpt else ""
        print(f"jaxnc: interrupted; no output written{where}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
