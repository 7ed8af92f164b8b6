#!/usr/bin/env bash
# The GPU part of the field-model benchmark, in one script (under 5 minutes on an H100).
# Run from the repository root on the GPU machine, which has jax, diffrax, equinox, optax and
# lineax installed but no registry access:
#     bash benchmarks/gpu.sh
# SHAPES="8x8x4,16x16x8" bash benchmarks/gpu.sh   runs smaller lattices (the CPU check).
# It prints the device, the jaxnc lattice table (no SciPy: the baselines are CPU runs), the
# largest lattice that runs, steps per second, and the transport update's achieved bytes/s;
# then the design-sweep benchmark (benchmarks/sweep.py; SWEEP=quick for small grids).
set -euo pipefail
export PYTHONPATH="${PYTHONPATH:-}:$(pwd)"
python - <<'PY'
import time
import jax
import jax.numpy as jnp
import numpy as np
import jaxnc
from jaxnc.models import get_model

print("devices:", jax.devices())
p = jaxnc.Parameters.hashimoto2024()
proto = "light 3h; dark 600h; light 3h"
import os
shapes = [tuple(int(v) for v in s.split("x")) for s in
          os.environ.get("SHAPES", "16x16x8,32x32x16,64x64x32,128x128x64").split(",")]
largest = shapes[0]
for shape in shapes:
    asm = jaxnc.Assembly.supercrystal(*shape)
    try:
        t0 = time.perf_counter()
        sol = jaxnc.simulate(asm, p, proto, model="field", saves_per_step=31)
        jax.block_until_ready(sol.plqy)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        sol = jaxnc.simulate(asm, p.replace(k_desorption_per_h=2.76e-3), proto, model="field",
                             saves_per_step=31)
        jax.block_until_ready(sol.plqy)
        run = time.perf_counter() - t0
    except Exception as e:  # out of memory: the previous lattice was the largest
        print(f"{shape}: failed ({type(e).__name__}: {str(e).splitlines()[0][:120]})")
        break
    largest = shape
    steps = int(np.asarray(sol.solver_steps).sum())
    print(f"{'x'.join(map(str, shape)):>12s} cubes {int(np.prod(shape)):8d} run {run:7.2f} s "
          f"compile {first - run:6.2f} s steps {steps:5d} steps/s {steps / run:8.1f} "
          f"PLQY end {float(sol.plqy[-1]):.4f}", flush=True)

# Achieved bandwidth of the transport update (7-point stencil) on the largest lattice run.
model = get_model("field")
asm = jaxnc.Assembly.supercrystal(*largest)
cells = model.cells(asm, p)
co = model.coefficients(cells, asm, p, 468.0, 10.0, 298.15)
c = jnp.asarray(np.random.default_rng(0).random(cells.weight.shape))
f = jax.jit(lambda c: model.transport_rate(c, co))
jax.block_until_ready(f(c))
n = 50
t0 = time.perf_counter()
for _ in range(n):
    c = f(c)
jax.block_until_ready(c)
dt = (time.perf_counter() - t0) / n
moved = 8 * c.size * (2 + 3)  # read c and weight, links (3 axes); write the result
print(f"transport update on {c.size} cells: {dt * 1e3:.3f} ms, {moved / dt / 1e9:.1f} GB/s "
      f"(compare with the card's memory bandwidth)")
PY

# Design sweeps on the accelerator: every point of a chunk in lockstep (the GPU default).
# SWEEP=quick runs 8x4 / 4x4 grids (the CPU check).
if [ "${SWEEP:-full}" = "quick" ]; then
    python benchmarks/sweep.py --quick
else
    python benchmarks/sweep.py
fi
