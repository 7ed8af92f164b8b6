"""Cost of one gradient of the fit loss against one forward solve, in the same process.

    .venv/bin/python benchmarks/grad_cost.py [--model mean_field|field] [--shape 4 4 2]

Times are after compilation (compile time printed apart), median of `--repeats` calls. The
loss is the sum of squared PLQY residuals against 61 points per step of
"light 3h; dark 300h", differentiated with respect to three rate parameters by reverse mode
(the `adam-lbfgs` fitter's gradient) and by forward mode. Then the default fitter's own
iteration: residuals and their full Jacobian (forward mode, `jaxnc.fit` method "lm") against
the residuals alone, for that one curve and for the 16-sample batch of `fit_batch.py`
(4 global parameters + 1 per sample, all 16 curves in one vmapped solve).
"""

from __future__ import annotations

import argparse
import statistics
import time

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp

import jaxnc
from jaxnc.models import get_model
from jaxnc.solve import SolverSettings, solve_at

FREE = ("k_desorption_per_h", "k_adsorption_per_h", "k_trap_nonradiative_per_ns")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="mean_field", choices=("mean_field", "field"))
    ap.add_argument("--shape", type=int, nargs=3, default=(4, 4, 2))
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    asm = jaxnc.Assembly.supercrystal(*args.shape)
    base = jaxnc.Parameters.hashimoto2024()
    proto = jaxnc.Protocol.parse("light 3h; dark 300h")
    grid = proto.duration_h[:, None] * jnp.linspace(0, 1, 61)[None, :]
    model = get_model(args.model)
    target = solve_at(model, asm, base, proto, SolverSettings(), grid)[1]["plqy"] * 1.01

    def loss(z, settings):
        p = base.replace(**{n: jnp.exp(z[i]) for i, n in enumerate(FREE)})
        pred = solve_at(model, asm, p, proto, settings, grid)[1]["plqy"]
        return jnp.sum((pred - target) ** 2)

    z = jnp.log(jnp.asarray([float(getattr(base, n)) for n in FREE]))
    reverse = SolverSettings()
    forward_mode = eqx.tree_at(lambda s: s.adjoint, reverse, diffrax.ForwardMode())
    runs = {
        "forward solve": eqx.filter_jit(lambda z: loss(z, reverse)),
        "gradient (reverse)": eqx.filter_jit(jax.grad(lambda z: loss(z, reverse))),
        "gradient (forward mode)": eqx.filter_jit(jax.jacfwd(lambda z: loss(z, forward_mode))),
    }
    results = {}
    for name, f in runs.items():
        t0 = time.perf_counter()
        jax.block_until_ready(f(z))
        first = time.perf_counter() - t0
        times = []
        for i in range(args.repeats):
            zz = z + 1e-3 * (i + 1)  # new values: traced, no recompilation
            t0 = time.perf_counter()
            jax.block_until_ready(f(zz))
            times.append(time.perf_counter() - t0)
        run = statistics.median(times)
        results[name] = run
        print(f"{name:26s} compile+first {first:7.2f} s   run {run * 1e3:9.1f} ms")
    base_t = results["forward solve"]
    for name in ("gradient (reverse)", "gradient (forward mode)"):
        print(f"{name} / forward solve = {results[name] / base_t:.2f}")
    fitter_step(asm, base, args.model, args.repeats)


def fitter_step(asm, base, model, repeats):
    """The `lm` fitter's evaluation (residuals + Jacobian) against residuals alone."""
    import fit_batch

    from jaxnc.data import synthetic_dataset
    from jaxnc.fitting import fit_problem

    residuals = eqx.filter_jit(lambda problem, z: problem.residuals(z))
    residuals_and_jacobian = eqx.filter_jit(lambda problem, z: problem.residuals_and_jacobian(z))

    one = synthetic_dataset(asm, base, {"s": "light 3h; dark 300h"}, model=model,
                            saves_per_step=31)
    _, sixteen, _ = fit_batch.sixteen_samples(asm, model, 31)
    cases = {"1 curve, 3 free": (one, list(FREE), []),
             "16 curves, 4 + 16 free": (sixteen, fit_batch.GLOBAL, ["coverage_initial"])}
    for label, (data, free, per_sample) in cases.items():
        setup = fit_problem(data, asm, base, free, per_sample, model, None, 10.0, 0.01, 1e-7, 1e-10)
        times = {}
        for name, f in (("residuals", residuals), ("residuals + Jacobian",
                                                   residuals_and_jacobian)):
            t0 = time.perf_counter()
            jax.block_until_ready(f(setup.problem, jnp.asarray(setup.z0)))
            first = time.perf_counter() - t0
            runs = []
            for i in range(repeats):
                z = jnp.asarray(setup.z0) + 1e-3 * (i + 1)
                t0 = time.perf_counter()
                jax.block_until_ready(f(setup.problem, z))
                runs.append(time.perf_counter() - t0)
            times[name] = statistics.median(runs)
            print(f"{label:24s} {name:22s} compile+first {first:7.2f} s   run "
                  f"{times[name] * 1e3:9.1f} ms")
        print(f"{label}: fitter step (residuals + Jacobian) / residuals = "
              f"{times['residuals + Jacobian'] / times['residuals']:.2f}")


if __name__ == "__main__":
    main()
