"""Scaling benchmark of the `field` model: jaxnc's matrix-free Rosenbrock-W solver (ROS34PW2AF,
the default) against SciPy BDF with a sparse Jacobian pattern and SUNDIALS CVODE (BDF, sparse
LU) through scikit-sundae (optional: `pip install scikit-sundae`, the `[bench]` extra), cost per
step against lattice size, the cost of exciton transfer, and gradient cost against forward
cost.

    .venv/bin/python benchmarks/run.py [--quick] [--json out.json]

Protocol "light 3h; dark 600h; light 3h", 31 saves per step, the default parameter set, the
same tolerances for every solver (rtol 1e-5, atol 1e-8: jaxnc's ROS2 default). SciPy
integrates the same discretised equations written in NumPy (`benchmarks/_numpy_field.py`,
coefficients taken from jaxnc) with `solve_ivp(method="BDF", jac_sparsity=...)`. jaxnc times
are after compilation (a second call with a changed rate; compile time = first call minus
that). Both sides use the default optics (`ExcitonFieldOptics`: Poisson trap counts and
Förster transfer between cubes, an exciton lattice solve in every evaluation); the column
"x local" is jaxnc's cost per step over that of the same model with the local quasi-static
optics (`QuasiStaticOptics`: no transfer, no solve), i.e. what the exciton field costs.
Lattices 8x8x4, 16x16x8, 32x32x16; `--quick` runs jaxnc and SciPy on the first two (SciPy at
16x16x8 is most of its time). Prints a table; `--json` writes one entry per lattice under
"lattices" and the top-level "step_cost_slope" and "grad_over_forward".
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

import jaxnc
from jaxnc.models import FieldModel
from jaxnc.physics import QuasiStaticOptics
from jaxnc.protocol import Protocol

PROTOCOL = "light 3h; dark 600h; light 3h"
SAVES = 31
RTOL, ATOL = 1e-5, 1e-8


def run_jaxnc(asm, params, model="field"):
    kw = dict(model=model, saves_per_step=SAVES, rtol=RTOL, atol=ATOL)
    t0 = time.perf_counter()
    jax.block_until_ready(jaxnc.simulate(asm, params, PROTOCOL, **kw).plqy)
    first = time.perf_counter() - t0
    changed = params.replace(k_desorption_per_h=1.001 * float(params.k_desorption_per_h))
    t0 = time.perf_counter()
    sol = jaxnc.simulate(asm, changed, PROTOCOL, **kw)
    jax.block_until_ready(sol.plqy)
    run = time.perf_counter() - t0
    # The SciPy run uses the unchanged set: rerun it (compiled) for the comparison.
    ref = jaxnc.simulate(asm, params, PROTOCOL, **kw)
    return dict(jaxnc_s=run, compile_s=max(first - run, 0.0),
                steps=int(np.sum(np.asarray(sol.solver_steps)))), np.asarray(ref.plqy)


def run_scipy(asm, params):
    from _numpy_field import NumpyField

    t0 = time.perf_counter()
    plqy, nfev = NumpyField(asm, params).simulate(Protocol.parse(PROTOCOL), SAVES, RTOL, ATOL)
    return time.perf_counter() - t0, plqy, nfev


def run_cvode(asm, params):
    """SUNDIALS CVODE (BDF, sparse LU) through scikit-sundae, if installed; None otherwise."""
    try:
        import sksundae  # noqa: F401
    except ImportError:
        return None
    from _numpy_field import NumpyField

    t0 = time.perf_counter()
    plqy, _ = NumpyField(asm, params).simulate_cvode(Protocol.parse(PROTOCOL), SAVES, RTOL,
                                                     ATOL)
    return time.perf_counter() - t0, plqy


def grad_over_forward(asm, params):
    def final(kd):
        return jaxnc.simulate(asm, params.replace(k_desorption_per_h=kd), PROTOCOL,
                              model="field", saves_per_step=SAVES, rtol=RTOL,
                              atol=ATOL).plqy[-1]

    kd = float(params.k_desorption_per_h)
    fwd, grad = jax.jit(final), jax.jit(jax.grad(final))
    for f in (fwd, grad):
        jax.block_until_ready(f(kd))  # compile
    times = {}
    for name, f in (("forward", fwd), ("grad", grad)):
        runs = []
        for i in range(3):
            t0 = time.perf_counter()
            jax.block_until_ready(f(kd * (1 + 1e-3 * (i + 1))))
            runs.append(time.perf_counter() - t0)
        times[name] = float(np.median(runs))
    return times["grad"] / times["forward"], times


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="8x8x4 and 16x16x8 only (a few minutes on 2 cores)")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    params = jaxnc.Parameters.hashimoto2024()
    shapes = [(8, 8, 4), (16, 16, 8)] if args.quick else [(8, 8, 4), (16, 16, 8), (32, 32, 16)]
    scipy_shapes = set(shapes)
    local = FieldModel(optics=QuasiStaticOptics())
    rows = []
    print(f"{'lattice':>12s} {'cubes':>6s} {'jaxnc s':>8s} {'compile s':>9s} {'steps':>6s} "
          f"{'ms/step':>8s} {'x local':>7s} {'scipy s':>8s} {'speedup':>7s} "
          f"{'max|dPLQY|':>10s} {'cvode s':>8s} {'speedup':>7s}", flush=True)
    for shape in shapes:
        asm = jaxnc.Assembly.supercrystal(*shape)
        res, plqy = run_jaxnc(asm, params)
        res_local, _ = run_jaxnc(asm, params, local)
        ms_local = 1e3 * res_local["jaxnc_s"] / res_local["steps"]
        entry = dict(shape=list(shape), cubes=int(np.prod(shape)), **res,
                     ms_per_step=1e3 * res["jaxnc_s"] / res["steps"],
                     ms_per_step_local_optics=ms_local, scipy_s=None,
                     speedup=None, max_abs_plqy_diff=None, cvode_s=None, speedup_cvode=None)
        entry["transfer_cost_ratio"] = entry["ms_per_step"] / ms_local
        if shape in scipy_shapes:
            scipy_s, ref, _ = run_scipy(asm, params)
            entry.update(scipy_s=scipy_s, speedup=scipy_s / res["jaxnc_s"],
                         max_abs_plqy_diff=float(np.max(np.abs(ref - plqy))))
        cvode = run_cvode(asm, params) if shape in scipy_shapes else None
        if cvode is not None:
            entry.update(cvode_s=cvode[0], speedup_cvode=cvode[0] / res["jaxnc_s"],
                         max_abs_plqy_diff_cvode=float(np.max(np.abs(cvode[1] - plqy))))
        rows.append(entry)

        def fmt(v, spec):
            return format(v, spec) if v is not None else "-".rjust(len(format(1.0, spec)))

        print(f"{'x'.join(map(str, shape)):>12s} {entry['cubes']:6d} {res['jaxnc_s']:8.2f} "
              f"{res['compile_s']:9.2f} {res['steps']:6d} {entry['ms_per_step']:8.2f} "
              f"{entry['transfer_cost_ratio']:7.2f} {fmt(entry['scipy_s'], '8.2f')} "
              f"{fmt(entry['speedup'], '7.1f')} "
              f"{fmt(entry['max_abs_plqy_diff'], '10.2e')} {fmt(entry['cvode_s'], '8.2f')} "
              f"{fmt(entry['speedup_cvode'], '7.1f')}", flush=True)
    cubes = np.array([r["cubes"] for r in rows], dtype=float)
    cost = np.array([r["ms_per_step"] for r in rows])
    slope = float(np.polyfit(np.log(cubes), np.log(cost), 1)[0])
    print(f"cost per step ~ cubes^{slope:.2f}")
    g_shape = (4, 4, 2) if args.quick else (8, 8, 4)
    ratio, times = grad_over_forward(jaxnc.Assembly.supercrystal(*g_shape), params)
    print(f"gradient / forward ({'x'.join(map(str, g_shape))}, reverse mode, d PLQY_end / "
          f"d k_des): {ratio:.2f} ({times['grad']:.2f} s / {times['forward']:.2f} s)")
    if args.json:
        from jaxnc.runtime import write_json_atomic

        write_json_atomic(args.json, dict(
            protocol=PROTOCOL, rtol=RTOL, atol=ATOL, lattices=rows, step_cost_slope=slope,
            grad_over_forward=ratio, grad_lattice=list(g_shape), grad_times_s=times,
            machine="2-core CPU (see docs/performance.md)", jax=jax.__version__))


if __name__ == "__main__":
    main()
