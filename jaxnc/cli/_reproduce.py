"""`jaxnc reproduce`: a paper's experiments with the default parameters, compared with it."""

from __future__ import annotations

from ._options import add_model_option, add_output_options

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    p = sub.add_parser(
        "reproduce",
        help="run a paper's experiments with the default parameters and compare",
        description="Run the experiments of a paper with Parameters.hashimoto2024() and write "
        "its figures and a table of each stated number beside the model's.",
    )
    p.add_argument("paper", choices=("hashimoto2024",),
                   help="which paper (hashimoto2024: Nanoscale Adv. 2024, 6, 5563)")
    add_output_options(p, out="output folder (created if missing)", quiet="no progress lines")
    add_model_option(p, note=": about a minute; field: many minutes")
    p.set_defaults(run=run)


def run(args) -> int:
    import math
    from pathlib import Path

    from ..errors import ParameterError
    from ..papers import PAPERS
    from ..runtime import atomic_path, write_csv_text_atomic, write_json_atomic

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {args.out}: exists and is not a folder")
    paper = PAPERS[args.paper]
    rep = paper.reproduce(model=args.model, progress=None if args.quiet else print)
    out.mkdir(parents=True, exist_ok=True)
    table = rep.table_markdown()
    with atomic_path(out / "comparison.md") as tmp:
        tmp.write_text(f"# Hashimoto et al. 2024 against jaxnc ({rep.model}, default "
                       f"parameters)\n\n{table}")
    write_csv_text_atomic(out / "comparison.csv", rep.rows,
                          ("quantity", "unit", "paper", "model", "difference", "note"))
    kin = rep.kinetics.to_json()
    kin["settings"] = dict(source="simulated dark decays", model=rep.model)
    write_json_atomic(out / "kinetics.json", kin)
    fields = ("wavelength_nm", "irradiance_mw_cm2", "t90_h", "rise_3h_points")
    rows = [{f: float(data[f][i]) if math.isfinite(float(data[f][i])) else None
             for f in fields}
            for data in (rep.action, rep.dose) for i in range(len(data["t90_h"]))]
    write_csv_text_atomic(out / "action_dose.csv", rows, fields)
    figures = paper.plot_reproduction(rep, out)
    if not args.quiet:
        print(table)
        print(f"wrote {out / 'comparison.md'}, comparison.csv, kinetics.json, action_dose.csv "
              f"(t90: hours to {rep.dose['level_percent']:.1f} % PLQY; empty: not reached in "
              f"{rep.dose['window_h']:g} h) and {', '.join(Path(f).name for f in figures)}")
    return 0
