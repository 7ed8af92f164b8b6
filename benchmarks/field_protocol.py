"""Time the `field` model through the 1200 h protocol; compile time reported apart from run time.

    .venv/bin/python benchmarks/field_protocol.py [--shape 8 8 4] [--field-solver ros3|kvaerno5]
    .venv/bin/python benchmarks/field_protocol.py --excitons [--shape 16 16 8]

Compile time is timed on its own (`lower().compile()` of the jitted solve); run time is a
call after a warm-up call, with a different rate value (traced, so no recompilation). The
ratio printed is the field model's run time over the mean-field model's on the same
assembly, measured in the same process. With `--excitons` the field model runs with its
default exciton optics (`ExcitonFieldOptics`: transfer between cubes, a lattice solve in every
evaluation) and with the local `QuasiStaticOptics`, and the cost per solver step with transfer
on is printed against the local optics.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import jaxnc

PROTOCOL = "light 468nm 3h; dark 597h; light 3h; dark 597h"  # 1200 h


def timed(asm, params, model, solver):
    t0 = time.perf_counter()
    sol = jaxnc.simulate(asm, params, PROTOCOL, model=model, solver=solver)
    sol.plqy.block_until_ready()
    return time.perf_counter() - t0, sol


def measure(asm, model, solver=None):
    p = jaxnc.Parameters.hashimoto2024()
    first, _ = timed(asm, p, model, solver)  # compiles, then runs
    run, sol = timed(asm, p.replace(k_desorption_per_h=float(p.k_desorption_per_h) * 1.01), model,
                     solver)
    # The second call reuses the program (a changed value does not recompile): the first
    # call's excess over it is tracing and compiling.
    return dict(run_s=run, compile_s=first - run,
                solver_steps=int(np.asarray(sol.solver_steps).sum()), plqy_end=float(sol.plqy[-1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", type=int, nargs=3, default=(8, 8, 4))
    ap.add_argument("--field-solver", default="ros3", choices=("ros3", "ros2", "kvaerno5"))
    ap.add_argument("--excitons", action="store_true",
                    help="the field model with exciton transfer (default) and local optics")
    args = ap.parse_args()
    asm = jaxnc.Assembly.supercrystal(*args.shape)
    if args.excitons:
        from jaxnc.models import FieldModel
        from jaxnc.physics import QuasiStaticOptics

        off = measure(asm, FieldModel(optics=QuasiStaticOptics()), args.field_solver)
        on = measure(asm, FieldModel(), args.field_solver)
        print(f"protocol: {PROTOCOL}; lattice {tuple(args.shape)} = {asm.n_cubes} cubes, "
              f"field {args.field_solver}")
        for name, r in (("local optics", off), ("excitons", on)):
            print(f"{name:13s} compile {r['compile_s']:6.1f} s, run {r['run_s']:7.2f} s, "
                  f"{r['solver_steps']} steps, {1e3 * r['run_s'] / r['solver_steps']:.2f} "
                  f"ms/step, PLQY end {r['plqy_end']:.4f}")
        per_step = ((on["run_s"] / on["solver_steps"]) / (off["run_s"] / off["solver_steps"]))
        print(f"cost per step, transfer on / off: {per_step:.2f}; run time: "
              f"{on['run_s'] / off['run_s']:.2f}")
        return
    base = measure(asm, "mean_field")
    field = measure(asm, "field", args.field_solver)
    print(f"protocol: {PROTOCOL}; lattice {tuple(args.shape)} = {asm.n_cubes} cubes")
    print(f"{'model':15s} {'compile s':>10s} {'run s':>8s} {'steps':>7s} {'ms/step':>8s} "
          f"{'PLQY end':>9s}")
    for name, r in (("mean_field", base), (f"field {args.field_solver}", field)):
        print(f"{name:15s} {r['compile_s']:10.1f} {r['run_s']:8.2f} {r['solver_steps']:7d} "
              f"{1e3 * r['run_s'] / r['solver_steps']:8.2f} {r['plqy_end']:9.4f}")
    print(f"field / mean_field run-time ratio: {field['run_s'] / base['run_s']:.1f}")


if __name__ == "__main__":
    main()
