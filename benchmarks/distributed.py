"""Scaling of a sweep and a batched fit over 1, 2, 4 local processes (jaxnc.runtime.distributed).

    .venv/bin/python benchmarks/distributed.py [--processes 1,2,4] [--quick]

Each run starts N processes on localhost (one CPU device each) that join one run with
`jaxnc.runtime.distributed.initialize` and then, every process alike:

- a mean_field sweep with gradients of the default design protocol on a 4x4x2 supercrystal
  (64 points, chunks of 16, vector width 1): the first chunk (which compiles) is timed apart,
  and the rate is the remaining points over the remaining time;
- a batched fit (LM, two global rates and one starting coverage per sample, 16 synthetic
  samples, 1 start) run twice: the first call compiles, the second is the run time.

Prints one row per process count and ratios against the single process of the same run.
On a machine with fewer cores than processes the processes share the cores: expect little.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time


def worker(port: int, n: int, i: int, data: str, quick: bool) -> None:
    import jaxnc
    from jaxnc import distributed

    if n > 1:
        distributed.initialize(f"localhost:{port}", n, i, timeout_s=120)
    import numpy as np

    from jaxnc.data import Dataset
    from jaxnc.design import sweep
    from jaxnc.fitting import fit

    p = jaxnc.Parameters.hashimoto2024()
    gaps = np.linspace(2.0, 4.0, 8 if quick else 16)
    r = sweep("supercrystal", p, gap_nm=gaps, ligand_nm=[1.4, 1.6, 2.0, 2.4], chunk_size=16,
              vector_width=1, progress=False)
    n_points = gaps.size * 4
    rate = (n_points - 16) / (r.wall_s - r.first_chunk_s)
    d = Dataset.from_csv(data)
    asm = jaxnc.Assembly.supercrystal(4, 4, 2)
    kw = dict(per_sample=["coverage_initial"], starts=1, progress=False, max_iter=20)
    free = ["k_adsorption_per_h", "k_desorption_per_h"]
    t0 = time.perf_counter()
    fit(d, asm, p, free, **kw)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = fit(d, asm, p, free, **kw)
    second = time.perf_counter() - t0
    if i == 0:
        print(json.dumps(dict(processes=n, sweep_points=n_points,
                              sweep_first_chunk_s=r.first_chunk_s,
                              sweep_points_per_s=rate, fit_samples=len(d.curves),
                              fit_first_s=first, fit_run_s=second,
                              fit_iterations=res.iterations)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--processes", default="1,2,4")
    ap.add_argument("--quick", action="store_true", help="32 sweep points, 8 samples")
    ap.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        port, n, i, data, quick = args.worker
        worker(int(port), int(n), int(i), data, quick == "1")
        return
    import jaxnc
    from jaxnc.data import synthetic_dataset

    p = jaxnc.Parameters.hashimoto2024()
    n_samples = 8 if args.quick else 16
    samples = {f"s{k}": p.replace(coverage_initial=0.1 + 0.3 * k / n_samples)
               for k in range(n_samples)}
    data = os.path.join(tempfile.mkdtemp(), "data.csv")
    synthetic_dataset(jaxnc.Assembly.supercrystal(4, 4, 2), samples,
                      {s: "light 3h; dark 100h" for s in samples}, saves_per_step=11,
                      seed=1).to_csv(data)
    print(f"cores: {os.cpu_count()}; jax {__import__('jax').__version__}")
    rows = []
    for n in (int(v) for v in args.processes.split(",")):
        port = _free_port()
        procs = [subprocess.Popen([sys.executable, __file__, "--worker", str(port), str(n),
                                   str(i), data, "1" if args.quick else "0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                 for i in range(n)]
        outs = [pr.communicate()[0] for pr in procs]
        row = json.loads([x for x in outs[0].splitlines() if x.startswith("{")][-1])
        rows.append(row)
        base = rows[0]
        print(f"{n} process(es): sweep {row['sweep_points_per_s']:.2f} points/s "
              f"(x{row['sweep_points_per_s'] / base['sweep_points_per_s']:.2f}), first chunk "
              f"{row['sweep_first_chunk_s']:.1f} s; fit of {row['fit_samples']} samples "
              f"{row['fit_run_s']:.2f} s for {row['fit_iterations']} iterations "
              f"(x{base['fit_run_s'] / row['fit_run_s']:.2f} speed), first call "
              f"{row['fit_first_s']:.1f} s", flush=True)


if __name__ == "__main__":
    main()
