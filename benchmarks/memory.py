"""Peak memory of the field model: a forward run on a large lattice, and a reverse-mode
gradient at two lattice sizes with a bounded number of adjoint checkpoints.

    .venv/bin/python benchmarks/memory.py [--large 64 64 32] [--checkpoints 64]

Each measurement runs in its own Python process and reports that process's peak resident set
size (`ru_maxrss`), so it includes JAX, XLA and the compiled program (a bare `import jaxnc`
is printed as the baseline). Protocol "light 3h; dark 600h; light 3h", field default solver
(ROS34PW2, matrix-free) at its default tolerances.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import jax, jaxnc
import diffrax
what, checkpoints = sys.argv[1], int(sys.argv[3])
shape = tuple(int(v) for v in sys.argv[2].split("x"))
out = dict(what=what, shape=list(shape), cubes=int(shape[0] * shape[1] * shape[2]))
if what != "baseline":
    asm = jaxnc.Assembly.supercrystal(*shape)
    p = jaxnc.Parameters.hashimoto2024()
    proto = "light 3h; dark 600h; light 3h"
    t0 = time.perf_counter()
    if what == "forward":
        sol = jaxnc.simulate(asm, p, proto, model="field", saves_per_step=31)
        out["plqy_end"] = float(sol.plqy[-1])
        out["steps"] = int(sol.solver_steps.sum())
    else:
        adjoint = diffrax.RecursiveCheckpointAdjoint(checkpoints=checkpoints)
        def final(kd):
            return jaxnc.simulate(asm, p.replace(k_desorption_per_h=kd), proto, model="field",
                                  saves_per_step=2, adjoint=adjoint).plqy[-1]
        out["grad"] = float(jax.grad(final)(float(p.k_desorption_per_h)))
        out["checkpoints"] = checkpoints
    out["wall_s"] = time.perf_counter() - t0
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def run(what, shape, checkpoints):
    proc = subprocess.run([sys.executable, "-c", CHILD, what, "x".join(map(str, shape)),
                           str(checkpoints)], capture_output=True, text=True)
    if proc.returncode != 0:
        return dict(what=what, shape=list(shape), error=proc.stderr.strip().splitlines()[-1])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--large", type=int, nargs=3, default=(64, 64, 32))
    ap.add_argument("--checkpoints", type=int, default=64)
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    rows = [run("baseline", (1, 1, 1), 0)]
    for shape in ((8, 8, 4), (16, 16, 8)):
        rows.append(run("gradient", shape, args.checkpoints))
    rows.append(run("forward", tuple(args.large), 0))
    for r in rows:
        print(json.dumps(r), flush=True)
    if args.json:
        from jaxnc.runtime import write_json_atomic

        write_json_atomic(args.json, dict(runs=rows))


if __name__ == "__main__":
    main()
