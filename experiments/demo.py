"""Simulate and plot: a 3D supercrystal and isolated nanocubes under 3 h of 468 nm light, then
600 h of dark, with the default parameter set (`make demo`).

Writes the PLQY, lifetime and lost ligand of both to DIR/demo.csv, their PLQY and ligand
budget to the figure, and prints a summary beside the paper's numbers. `--quick` simulates a
4x4x2 film instead of 8x8x4.
"""

from __future__ import annotations

import time

import _gallery
import numpy as np

import jaxnc
from jaxnc.cli import summary_table
from jaxnc.plot import plot_solutions
from jaxnc.runtime import write_csv_atomic

PROTOCOL = "light 468nm 3h; dark 600h"


def main(argv: list[str] | None = None) -> int:
    args = _gallery.parser(__doc__, "demo").parse_args(argv)
    out = _gallery.outputs(args)
    params = jaxnc.Parameters.hashimoto2024()
    film = (4, 4, 2) if args.quick else (8, 8, 4)
    # One start state for both: the 3D array starts lower (16.0 % against 19.4 %) because
    # excitons hop between its cubes to the quenching sites.
    samples = {
        f"3D supercrystal {'x'.join(map(str, film))}": jaxnc.Assembly.supercrystal(*film),
        "isolated NCs (16)": jaxnc.Assembly.isolated(16),
    }
    solutions = {}
    for label, asm in samples.items():
        print(f"simulating {label} ({asm.n_cubes} cubes, field model): {PROTOCOL}")
        t0 = time.perf_counter()
        solutions[label] = jaxnc.simulate(asm, params, PROTOCOL, model="field", progress=True)
        print(f"  done in {time.perf_counter() - t0:.1f} s (including compilation)")

    columns = {"time_h": np.asarray(next(iter(solutions.values())).time_h)}
    for label, sol in solutions.items():
        key = label.split()[0].lower()
        columns[f"plqy_{key}"] = np.asarray(sol.plqy)
        columns[f"lifetime_ns_{key}"] = np.asarray(sol.lifetime_ns)
        columns[f"ligand_lost_{key}"] = np.asarray(sol.ligand_lost)
    write_csv_atomic(out / "demo.csv", columns)
    plot_solutions(solutions, args.figure, title=PROTOCOL)

    print()
    print(summary_table(list(solutions.items())))
    print()
    print("paper (Hashimoto et al. 2024): 3D array 16.0 % -> 68.3 % within ~3 h of light, back "
          "over ~600 h of dark; isolated NCs 19.4 %, only a trace increase")
    print(f"wrote {out / 'demo.csv'} and {args.figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
