"""Option groups shared by the `jaxnc` commands, and what turns them into jaxnc objects.

Each shared option has its default here, once. A command that needs another default passes it
to the group's function, which says so in the help text. Nothing here imports jax or the model
at import time (the helpers import what they need when called), so `jaxnc --help` and argument
errors stay fast.
"""

from __future__ import annotations

__all__ = ["ASSEMBLY_KINDS", "LATERAL_CUBES", "add_assembly_options", "add_design_options",
           "add_data_assembly_options", "add_data_option", "add_distributed_options",
           "add_model_option", "add_output_options", "add_set_option", "add_solver_options",
           "assembly_from_args", "check_plot", "design_setup", "parse_set", "params_from_args",
           "read_data", "noise_from_args",
           "sample_assemblies", "split_names", "start_distributed", "wrote"]

ASSEMBLY_KINDS = ("isolated", "monolayer", "supercrystal", "dispersion")
MODEL_NAMES = ("field", "mean_field")
#: Cubes along x and y of a monolayer or supercrystal, unless a command needs fewer.
LATERAL_CUBES = 8
#: Cubes along x and y for `sweep` and `design`, which solve the model at every grid point or
#: optimiser step (with gradients): the size of `jaxnc.design.film()` and of the timings in
#: docs/design.md, a quarter of the cubes of the default lattice for `--model field`.
DESIGN_LATERAL_CUBES = 4


def add_assembly_options(p, *, lateral: int = LATERAL_CUBES, why_lateral: str = "",
                         nz_note: str = "", lengths: bool = True) -> None:
    """`--assembly`, `--nx`, `--ny`, `--nz`, `--n`, `--edge-nm` and, with `lengths`,
    `--gap-nm` and `--ligand-nm` (nm; commands that sweep or optimise those leave them out).

    `lateral` replaces [`LATERAL_CUBES`][] as the default of `--nx` and `--ny`, with
    `why_lateral` saying why in their help; `nz_note` qualifies `--nz`'s help.
    """
    p.add_argument("--assembly", choices=ASSEMBLY_KINDS, default="supercrystal",
                   help="assembly type (default: supercrystal)")
    p.add_argument("--nx", type=int, default=lateral,
                   help=f"cubes along x (default {lateral}{why_lateral})")
    p.add_argument("--ny", type=int, default=lateral,
                   help=f"cubes along y (default {lateral}{why_lateral})")
    p.add_argument("--nz", type=int, default=4,
                   help=f"layers of a supercrystal{nz_note} (default 4)")
    p.add_argument("--n", type=int, default=16,
                   help="number of isolated or dispersed cubes (default 16)")
    p.add_argument("--edge-nm", type=float, default=9.8, help="cube edge (nm, default 9.8)")
    if lengths:
        p.add_argument("--gap-nm", type=float, default=3.0,
                       help="inter-cube gap (nm, default 3.0)")
        p.add_argument("--ligand-nm", type=float, default=1.6,
                       help="ligand length (nm, default 1.6)")


def add_model_option(p, *, default: str = "mean_field", note: str = "") -> None:
    """`--model`: mean_field unless the command passes another `default`; `note` follows the
    default in the help."""
    p.add_argument("--model", choices=MODEL_NAMES, default=default,
                   help=f"field (full 3D lattice) or mean_field (one cube per layer); default "
                   f"{default}{note}")


def add_set_option(p, *, meaning: str = "override a parameter of the default set") -> None:
    """`--params FILE` (a fit's JSON or `{name: value}`; `--params-sample`) and `--set
    NAME=VALUE`, repeatable, over it; read with [`params_from_args`][]."""
    p.add_argument("--params", metavar="FILE",
                   help="start from the parameters in a JSON file: a `jaxnc fit --out` result "
                   "or {name: value} (default: the hashimoto2024 set)")
    p.add_argument("--params-sample", metavar="SAMPLE",
                   help="with --params of a fit with per-sample values: whose")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help=f"{meaning} (repeatable; applied over --params)")


def add_output_options(p, *, out: str, plot: str | None = None,
                       quiet: str | None = "no progress bar, no summary") -> None:
    """`--out` (required), and `--plot` and `--quiet` where the command has them."""
    p.add_argument("--out", required=True, help=out)
    if plot is not None:
        p.add_argument("--plot", help=plot)
    if quiet is not None:
        p.add_argument("--quiet", action="store_true", help=quiet)


def add_solver_options(p) -> None:
    """`--solver` and `--saves-per-step` of a single simulation."""
    p.add_argument("--solver", choices=("auto", "ros3", "ros2", "kvaerno5"), default="auto",
                   help="integrator (default auto = ros3: third-order Rosenbrock, matrix-free "
                   "for field, dense Jacobian for mean_field)")
    p.add_argument("--saves-per-step", type=int, default=61,
                   help="saved times per protocol step (default 61)")


def add_design_options(p, *, nz_note: str = "") -> None:
    """The film, protocol, model and batch options shared by `sweep` and `design`; read with
    [`design_setup`][]. Gap and ligand length are what they vary, so they are not here;
    `nz_note` qualifies `--nz`'s help."""
    add_assembly_options(p, lateral=DESIGN_LATERAL_CUBES, lengths=False,
                         why_lateral=f", not {LATERAL_CUBES} as in simulate and fit: a sweep "
                         f"or search solves every point; as jaxnc.design.film()",
                         nz_note=nz_note)
    p.add_argument("--protocol", help="protocol text (default: 3 h of 468 nm light at 10 "
                   "mW/cm2, 100 h dark, 3 h light; jaxnc.design.DEFAULT_PROTOCOL)")
    add_model_option(p)
    add_set_option(p)
    p.add_argument("--vector-width", type=int,
                   help="points per device solved in lockstep (default: all on a GPU; 16 "
                   "mean_field / 4 field on a CPU)")


def parse_set(items: list[str]) -> dict[str, float]:
    """`--set` items `NAME=VALUE` as a dict; `ParameterError` naming a malformed one."""
    from ..errors import ParameterError

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


def params_from_args(args):
    """The default parameter set, or `--params FILE`'s, with the `--set` overrides."""
    from ..errors import ParameterError
    from ..parameters import Parameters

    if args.params is None:
        if args.params_sample is not None:
            raise ParameterError("--params-sample needs --params FILE")
        return Parameters.hashimoto2024().replace(**parse_set(args.set))
    base = Parameters.from_json(args.params, sample=args.params_sample)
    return base.replace(**parse_set(args.set))


def split_names(text: str) -> list[str]:
    """A comma-separated list of names (`--free`, `--per-sample`, `--metrics`), blanks dropped."""
    return [n.strip() for n in text.split(",") if n.strip()]


def assembly_from_args(args, kind: str | None = None):
    """The `Assembly` the assembly options describe; `kind` replaces `--assembly`."""
    from ..geometry import Assembly

    kind = args.assembly if kind is None else kind
    lengths = dict(edge_nm=args.edge_nm, gap_nm=args.gap_nm, ligand_nm=args.ligand_nm)
    if kind == "isolated":
        return Assembly.isolated(args.n, **lengths)
    if kind == "dispersion":
        return Assembly.dispersion(args.n, **lengths)
    if kind == "monolayer":
        return Assembly.monolayer(args.nx, args.ny, **lengths)
    return Assembly.supercrystal(args.nx, args.ny, args.nz, **lengths)


def design_setup(args):
    """`(film factory, parameters, protocol)` from the options of [`add_design_options`][]."""
    from ..design import DEFAULT_PROTOCOL, film
    from ..protocol import Protocol

    protocol = Protocol.parse(args.protocol or DEFAULT_PROTOCOL)
    params = params_from_args(args)
    factory = film(args.assembly, nx=args.nx, ny=args.ny, nz=args.nz, n=args.n,
                   edge_nm=args.edge_nm)
    return factory, params, protocol


def check_plot(path: str | None) -> None:
    """Refuse a `--plot` file we cannot write before a long run, not after it."""
    if path:
        from ..plot import check_plot_path

        check_plot_path(path)


def wrote(*paths) -> str:
    """`"wrote A and B"` for the paths written (`None`s skipped)."""
    return "wrote " + " and ".join(str(p) for p in paths if p)


def add_distributed_options(p, *, shares: str) -> None:
    """`--distributed`, `--coordinator`, `--num-processes`, `--process-id`, `--timeout-s`;
    `shares` says what each process computes."""
    g = p.add_argument_group(
        "several processes (jaxnc.runtime.distributed)",
        f"Run the same command in every process; {shares}. Process 0 writes the output.")
    g.add_argument("--distributed", action="store_true",
                   help="join a multi-process run (settings from the options below, else "
                   "$JAXNC_COORDINATOR/$JAXNC_NUM_PROCESSES/$JAXNC_PROCESS_ID, else the "
                   "cluster, e.g. SLURM)")
    g.add_argument("--coordinator", help="host:port of process 0 (implies --distributed)")
    g.add_argument("--num-processes", type=int, help="processes in the run")
    g.add_argument("--process-id", type=int, help="this process's index, 0 ... N-1")
    g.add_argument("--timeout-s", type=float, default=60.0,
                   help="seconds to wait for every process to join, and at every exchange "
                   "(default 60)")


def start_distributed(args) -> bool:
    """Join the multi-process run the options ask for (before any JAX work); True if this
    process writes the outputs (process 0, or no multi-process run)."""
    explicit = (args.coordinator, args.num_processes, args.process_id)
    if not (args.distributed or any(v is not None for v in explicit)):
        return True
    from ..runtime import distributed

    info = distributed.initialize(args.coordinator, args.num_processes, args.process_id,
                                  timeout_s=args.timeout_s)
    if info["process_id"] == 0 and not args.quiet:
        print(f"jaxnc: {info['num_processes']} process(es), {info['devices']} device(s)")
    return info["process_id"] == 0


def add_data_option(p, *, what: str = "measured curves") -> None:
    """The data file (positional) and `--column HEADER=QUANTITY` (repeatable); read with
    [`read_data`][]."""
    p.add_argument("data", nargs="+", help=f"CSV file(s) of {what}: a time column and PLQY "
                   "(or PL intensity, lifetime, peak), with units in the headers "
                   "('Time (min)', 'PLQY (%%)', 'T (°C)'), optional light, temperature, "
                   "irradiance and sample columns (docs/data.md lists every name and unit); "
                   "several files are joined by sample name")
    p.add_argument("--column", action="append", default=[], metavar="HEADER=QUANTITY",
                   help="what a column holds where its header does not say: e.g. "
                   "\"PL (a.u.)=intensity\", \"Time=time (min)\", \"notes=ignore\" "
                   "(repeatable)")


def read_data(args, *, split: str = "time", echo: bool = True):
    """The `Dataset` of the file(s) `args.data` with the `--column` mapping (a header no file
    has is refused), several joined by sample; prints one line per file of what was read (with
    `echo`)."""
    from ..data import Dataset, combine_datasets, file_headers
    from ..errors import ParameterError

    columns = {}
    for item in args.column:
        header, eq, spec = item.rpartition("=")
        if not eq or not header.strip() or not spec.strip():
            raise ParameterError(f"--column {item!r}: expected HEADER=QUANTITY, e.g. "
                                 f"\"PL (a.u.)=intensity\"")
        columns[header.strip()] = spec.strip()
    headers = {path: {h.lower() for h in file_headers(path)} for path in args.data}
    missing = [h for h in columns if not any(h.lower() in names for names in headers.values())]
    if missing:
        raise ParameterError(f"--column {missing[0]!r}: no such column in "
                             f"{', '.join(args.data)}")
    datasets = []
    for path in args.data:  # each file takes the --column entries of its own headers
        here = {h: spec for h, spec in columns.items() if h.lower() in headers[path]}
        datasets.append(Dataset.from_csv(path, split=split, columns=here or None))
        if echo:
            print(f"{path}: {datasets[-1].summary()}")
    data = combine_datasets(datasets)
    if echo and len(datasets) > 1 and data.note:
        print(f"joined: {data.note}")
    return data


def add_data_assembly_options(p) -> None:
    """What measured curves were taken on: the assembly options, `--assembly-of` (another
    kind for one sample) and `--irradiance-mw-cm2` (of the data's light steps); read with
    [`sample_assemblies`][] (`fit`, `profile`)."""
    add_assembly_options(p)
    p.add_argument("--assembly-of", action="append", default=[], metavar="SAMPLE=KIND",
                   help="a different assembly kind for one sample (isolated, monolayer or "
                   "supercrystal, same sizes; repeatable), for joint fits of e.g. arrays and "
                   "isolated cubes")
    p.add_argument("--irradiance-mw-cm2", type=float, default=10.0,
                   help="irradiance of light steps read from the data (default 10)")


def sample_assemblies(args, data):
    """The assembly of every sample: `--assembly`, or per sample where `--assembly-of` says
    (then a dict sample -> Assembly)."""
    from ..errors import ParameterError

    assembly = assembly_from_args(args)
    if not args.assembly_of:
        return assembly
    kinds = {}
    for item in args.assembly_of:
        sample, _, kind = item.partition("=")
        if kind not in ASSEMBLY_KINDS:
            raise ParameterError(f"--assembly-of {item!r}: expected SAMPLE=KIND with KIND "
                                 f"isolated, monolayer or supercrystal")
        if sample not in data.samples:
            raise ParameterError(f"--assembly-of {item!r}: no sample {sample!r} in "
                                 f"{', '.join(args.data)} (samples: {', '.join(data.samples)})")
        kinds[sample] = kind
    built = {k: assembly_from_args(args, kind=k) for k in set(kinds.values())}
    return {s: built[kinds[s]] if s in kinds else assembly for s in data.samples}


def noise_from_args(items: list[str]) -> dict | None:
    """`--noise KIND=SD` items as `{kind: sd}` (None without any)."""
    from ..errors import ParameterError

    out = {}
    for item in items:
        kind, _, value = item.partition("=")
        try:
            out[kind.strip()] = float(value)
        except ValueError:
            raise ParameterError(f"--noise {item!r}: expected KIND=SD, e.g. intensity=0.02"
                                 ) from None
    return out or None
