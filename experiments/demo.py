"""`make demo`: a 3D supercrystal and isolated nanocubes under 3 h of 468 nm light, then 600 h
of dark, with the default parameter set. Writes out/demo/demo.csv and out/demo/demo.png and
prints a summary beside the paper's numbers."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import jaxnc
from jaxnc._io import write_csv_atomic
from jaxnc.cli import summary_table
from jaxnc.plot import plot_solutions

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "out/demo")
PROTOCOL = "light 468nm 3h; dark 600h"


def main() -> None:
    params = jaxnc.Parameters.hashimoto2024()
    # One start state for both: the 3D array starts lower (16.0 % against 19.4 %) because
    # excitons hop between its cubes to the quenching sites.
    samples = {
        "3D supercrystal 8x8x4": (jaxnc.Assembly.supercrystal(8, 8, 4), params),
        "isolated NCs (16)": (jaxnc.Assembly.isolated(16), params),
    }
    solutions = {}
    for label, (asm, p) in samples.items():
        print(f"simulating {label} ({asm.n_cubes} cubes, field model): {PROTOCOL}")
        t0 = time.perf_counter()
        solutions[label] = jaxnc.simulate(asm, p, PROTOCOL, model="field", progress=True)
        print(f"  done in {time.perf_counter() - t0:.1f} s (including compilation)")

    columns = {"time_h": np.asarray(next(iter(solutions.values())).time_h)}
    for label, sol in solutions.items():
        key = label.split()[0].lower()
        columns[f"plqy_{key}"] = np.asarray(sol.plqy)
        columns[f"lifetime_ns_{key}"] = np.asarray(sol.lifetime_ns)
        columns[f"ligand_lost_{key}"] = np.asarray(sol.ligand_lost)
    write_csv_atomic(OUT / "demo.csv", columns)
    plot_solutions(solutions, OUT / "demo.png", title=PROTOCOL)

    print()
    print(summary_table(list(solutions.items())))
    print()
    print("paper (Hashimoto et al. 2024): 3D array 16.0 % -> 68.3 % within ~3 h of light, back "
          "over ~600 h of dark; isolated NCs 19.4 %, only a trace increase")
    print(f"wrote {OUT / 'demo.csv'} and {OUT / 'demo.png'}")


if __name__ == "__main__":
    main()
