"""Where a whole `jaxnc fit` process spends its time, cold (empty cache folder) and warm.

    .venv/bin/python benchmarks/startup_breakdown.py

The `single` scenario of `fit_vs_lmfit.py` (one "light 3h; dark 300h" curve, three rates
started x2 off). Each run is a fresh process that imports jaxnc's command line and calls it
with `jax.monitoring` listeners for tracing, lowering, XLA compilation and persistent-cache
loads; the process's own clock gives the imports and the rest. Prints one table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
os.environ.setdefault("EQX_ON_ERROR", "nan")  # as entry_point does, before equinox loads
import jax, jax.monitoring as mon
t_jax = time.perf_counter()
sums = {}
def listen(event, duration, **kw):
    sums[event] = sums.get(event, 0.0) + duration
    sums[event + "#"] = sums.get(event + "#", 0) + 1
mon.register_event_duration_secs_listener(listen)
from jaxnc.cli import entry_point
import jaxnc.fit  # what the command imports first (timed apart from the rest)
t_import = time.perf_counter()
sys.argv = ["jaxnc"] + json.loads(sys.argv[1])
try:
    entry_point()
except SystemExit as exc:
    assert not exc.code, exc.code
t_end = time.perf_counter()
print(json.dumps(dict(import_jax=t_jax - t0, import_jaxnc=t_import - t_jax,
                      command=t_end - t_import, events=sums)))
"""

EVENTS = {
    "tracing": "/jax/core/compile/jaxpr_trace_duration",
    "lowering": "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "XLA compilation": "/jax/core/compile/backend_compile_duration",
    # Within "XLA compilation" (JAX times a cache hit as a compilation too):
    "  of which persistent-cache loads": "/jax/compilation_cache/cache_retrieval_time_sec",
}


def main():
    sys.path.insert(0, str(Path(__file__).parent))
    from fit_vs_lmfit import fit_argv, scenario

    asm, _, data, start, free, _ = scenario("single")
    with tempfile.TemporaryDirectory(prefix="startup-") as tmp:
        tmp = Path(tmp)
        data.to_csv(tmp / "data.csv")
        argv = fit_argv(tmp, free, start)
        env = dict(os.environ, JAXNC_CACHE_DIR=str(tmp / "cache"))
        env.pop("EQX_ON_ERROR", None)
        runs = {}
        for name in ("cold", "warm"):
            out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(argv)], env=env,
                                 capture_output=True, text=True, check=True)
            runs[name] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{'':34s} {'cold (s)':>9s} {'warm (s)':>9s}")
    for label, key in (("import jax", "import_jax"), ("import jaxnc.fit + command line",
                                                       "import_jaxnc")):
        print(f"{label:34s} {runs['cold'][key]:9.2f} {runs['warm'][key]:9.2f}")
    for label, event in EVENTS.items():
        cells = [f"{r['events'].get(event, 0.0):6.2f} ({r['events'].get(event + '#', 0):2d})"
                 for r in runs.values()]
        print(f"{label + ' (programs)':34s} {cells[0]:>9s} {cells[1]:>9s}")
    for r in runs.values():
        inside = sum(r["events"].get(e, 0.0) for e in list(EVENTS.values())[:3])
        r["rest"] = r["command"] - inside
    print(f"{'the rest of the command':34s} {runs['cold']['rest']:9.2f} "
          f"{runs['warm']['rest']:9.2f}")
    print(f"{'total in the process':34s} "
          + " ".join(f"{r['import_jax'] + r['import_jaxnc'] + r['command']:9.2f}"
                     for r in runs.values()))


if __name__ == "__main__":
    main()
