"""Design sweeps: one vmapped, sharded call against a loop of `simulate` calls.

    .venv/bin/python benchmarks/sweep.py [--quick] [--json out.json]
    XLA_FLAGS=--xla_force_host_platform_device_count=4 .venv/bin/python benchmarks/sweep.py \
        --compare-devices          # the sharded run against one device, same process

Two sweeps of the default design protocol (3 h light, 100 h dark, 3 h light), all six metrics
with their gap and ligand-length gradients (forward mode through the solver):

- mean_field, 32 gaps (1.5-5 nm) x 16 ligand lengths (1-2.5 nm), 4x4x4 supercrystal;
- field, 16 x 8 on a 4x4x2 lattice.

Each sweep runs twice in the process: the first call includes compilation, the second is run
time only (compile = first - second). The baseline, in the same process: `jaxnc.simulate` at
a sample of the same points one by one (values only, compiled once), giving the per-point time
of a Python loop; central differences for two gradients would take 4 more solves per point.
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import numpy as np

import jaxnc
from jaxnc.design import DEFAULT_PROTOCOL, film, sweep


def timed_sweep(factory, params, model, gaps, ligands, devices=None):
    kw = dict(gap_nm=gaps, ligand_nm=ligands, model=model, progress=False, devices=devices)
    t0 = time.perf_counter()
    sweep(factory, params, **kw)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = sweep(factory, params, **kw)
    warm = time.perf_counter() - t0
    return result, cold, warm


def loop_baseline(factory, params, model, gaps, ligands, n_sample, seed=0):
    """Seconds per point of `simulate` called point by point (after one warm-up call)."""
    rng = np.random.default_rng(seed)
    points = [(rng.choice(gaps), rng.choice(ligands)) for _ in range(n_sample)]
    kw = dict(model=model, saves_per_step=41)
    jaxnc.simulate(factory(gap_nm=points[0][0], ligand_nm=points[0][1]), params,
                   DEFAULT_PROTOCOL, **kw).plqy.block_until_ready()
    t0 = time.perf_counter()
    for g, lg in points:
        jaxnc.simulate(factory(gap_nm=g, ligand_nm=lg), params, DEFAULT_PROTOCOL,
                       **kw).plqy.block_until_ready()
    return (time.perf_counter() - t0) / n_sample


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="8 x 4 and 4 x 4 grids")
    ap.add_argument("--compare-devices", action="store_true",
                    help="also run the mean-field sweep on one device and compare")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    params = jaxnc.Parameters.hashimoto2024()
    cases = [("mean_field", film("supercrystal", 4, 4, 4), (32, 16)),
             ("field", film("supercrystal", 4, 4, 2), (16, 8))]
    if args.quick:
        cases = [("mean_field", cases[0][1], (8, 4)), ("field", cases[1][1], (4, 4))]
    print(f"devices: {jax.devices()}")
    out = []
    for model, factory, (n_gap, n_lig) in cases:
        gaps, ligands = np.linspace(1.5, 5.0, n_gap), np.linspace(1.0, 2.5, n_lig)
        result, cold, warm = timed_sweep(factory, params, model, gaps, ligands)
        n = n_gap * n_lig
        per_point_loop = loop_baseline(factory, params, model, gaps, ligands,
                                       n_sample=16 if model == "mean_field" else 4)
        counts = {s: int((result.status == s).sum()) for s in ("ok", "partial", "failed")}
        row = dict(model=model, grid=f"{n_gap}x{n_lig}", points=n, first_call_s=cold,
                   run_s=warm, compile_s=cold - warm, per_point_ms=1e3 * warm / n,
                   loop_per_point_ms=1e3 * per_point_loop,
                   loop_over_sweep=per_point_loop * n / warm,
                   loop_with_fd_gradients_over_sweep=5 * per_point_loop * n / warm,
                   status=counts, devices=result.settings["devices"])
        out.append(row)
        print(f"{model:10s} {n_gap}x{n_lig} ({n} points, values + 2 gradients each): first "
              f"call {cold:.1f} s = compile {cold - warm:.1f} s + run {warm:.1f} s "
              f"({1e3 * warm / n:.1f} ms/point); status {counts}")
        print(f"{'':10s} loop of simulate(): {1e3 * per_point_loop:.1f} ms/point for values "
              f"alone -> sweep is {row['loop_over_sweep']:.1f}x faster with gradients, "
              f"{row['loop_with_fd_gradients_over_sweep']:.1f}x against values + central "
              f"differences")
        if args.compare_devices and model == "mean_field" and jax.device_count() > 1:
            single, cold1, warm1 = timed_sweep(factory, params, model, gaps, ligands,
                                               devices=jax.devices()[:1])
            def rel(a, b):
                return float(np.nanmax(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))

            same = all(np.array_equal(result.values[m], single.values[m], equal_nan=True)
                       for m in result.metrics)
            value = max(rel(result.values[m], single.values[m]) for m in result.metrics)
            grad = max(rel(result.gradients[k], single.gradients[k]) for k in result.gradients)
            nan_same = all(np.array_equal(np.isnan(result.values[m]), np.isnan(single.values[m]))
                           for m in result.metrics)
            row.update(single_device_run_s=warm1, sharded_values_bitwise=same,
                       sharded_value_max_rel_diff=value, sharded_gradient_max_rel_diff=grad,
                       sharded_same_nan_points=nan_same)
            print(f"{'':10s} {jax.device_count()} devices vs 1: values bit for bit {same}, "
                  f"differ by at most {value:.1e} relative, gradients {grad:.1e}; same NaN "
                  f"points {nan_same}; run {warm:.1f} s vs {warm1:.1f} s on one device "
                  f"(default lockstep widths: {result.settings['vector_width']} and "
                  f"{single.settings['vector_width']} points)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
