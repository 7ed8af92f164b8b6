"""jaxnc's fitter against what an experimentalist would use today: lmfit (least squares with a
finite-difference Jacobian) driving `scipy.integrate.solve_ivp` (BDF) on the same mean-field
equations, written in NumPy here.

    .venv/bin/pip install lmfit        # optional benchmark dependency ([bench] extra)
    .venv/bin/python benchmarks/fit_vs_lmfit.py [--scenario single|joint16|both] [--json F]
    .venv/bin/python benchmarks/fit_vs_lmfit.py --processes [--repeats 3] [--json F]

Scenarios (synthetic data from the default parameters, 4x4x2 supercrystal, 1 % noise, the
same data and the same start for both fitters, rtol 1e-7 / atol 1e-10 for both integrators):

- `single`: one curve, "light 3h; dark 300h", 62 points; k_des, k_ads, k_trap_nr free, each
  started x2 off.
- `joint16`: the paper's kind of experiment, 16 curves (dark decay at 288-318 K after 3 h of
  light, four starting coverages each); global k_des, k_ads, k_trap_nr, Ea_des plus a
  per-sample coverage_initial: 20 unknowns, 992 points (see `fit_batch.py`).

jaxnc's wall time includes its compilation; the table also gives a second, warm call (what
every later fit of the same structure costs in one session).

`--processes` (the `single` scenario) runs each side as a whole process, as a user meets it:
`jaxnc fit DATA.csv ...` from the command line against a script that imports NumPy, SciPy and
lmfit only (`_lmfit_process.py`, given the model's arrays in a file). jaxnc runs cold (an
empty cache folder: import, trace, compile, fit) and then warm (the same folder, as every
later run of the same structure), `--repeats` times each; the figures are medians of
whole-process wall times, and the JSON has `lmfit_s`, `jaxnc_cold_s` and `jaxnc_warm_s` at
its top level. Losses are sums of squared PLQY
residuals; both fitted parameter sets are also scored with jaxnc's model so that they are
compared on one model (the NumPy right-hand side's agreement with jaxnc at the truth is
printed first).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _lmfit_process import MeanFieldRHS  # the sibling script: NumPy, SciPy, lmfit only
from scipy.integrate import solve_ivp

import jaxnc
from jaxnc.data import protocol_from_curve, synthetic_dataset
from jaxnc.fitting import fit
from jaxnc.models import get_model

R_KJ_MOL_K = 8.314462618e-3
T_REF_K = 298.15
SAVES = 31


class NumpyMeanField(MeanFieldRHS):
    """The mean-field vector field in NumPy for one assembly (`MeanFieldRHS.rhs`, shared with
    the lmfit process); fixed parameters from `params`, the fitted ones (k_des, k_ads,
    k_trap_nr, Ea_des, coverage_initial) given per call."""

    def __init__(self, asm, params):
        self.model = get_model("mean_field")
        self.asm, self.params = asm, params
        self.cells = self.model.cells(asm, params)
        self.p = params.to_dict()
        self.weight = np.asarray(self.cells.weight)
        self.area = np.asarray(self.cells.area)
        self.open = np.asarray(self.cells.open_faces)
        self.confined = np.asarray(self.cells.confined)
        self.enclosure = np.asarray(self.cells.enclosure)
        self.links = np.asarray(self.cells.links[0])
        self.probe = np.asarray(self.model.probe_weight(self.cells, asm, params))
        self.nz = len(self.weight)
        self._coefficients = {}

    def coefficients(self, light: bool, temperature_k: float):
        """Generation, k_ads / k_ads_ref, steric factor of k_des, k_hop and the escape chance,
        from jaxnc."""
        key = (light, temperature_k)
        if key not in self._coefficients:
            co = self.model.coefficients(self.cells, self.asm, self.params, 468.0,
                                         10.0 if light else 0.0, temperature_k)
            arr = np.exp(-self.p["Ea_desorption_kj_mol"] / R_KJ_MOL_K
                         * (1 / temperature_k - 1 / T_REF_K))
            self._coefficients[key] = (
                np.asarray(co.generation_per_s),
                float(co.k_ads_per_h) / self.p["k_adsorption_per_h"],
                float(co.k_des_per_h) / (self.p["k_desorption_per_h"] * arr),
                float(co.k_hop_per_h),
                float(co.escape_confined))
        return self._coefficients[key]

    def predict(self, curve, v, rtol, atol):
        """PLQY at the curve's times; `v`: k_des, k_ads, k_tnr, Ea_des, coverage_initial."""
        protocol = protocol_from_curve(curve)
        bounds = np.concatenate([[0.0], np.cumsum(np.asarray(protocol.duration_h))])
        times = curve.time_h
        y = np.concatenate([np.full(self.nz, v["coverage_initial"]), np.zeros(self.nz),
                            self.p["free_ligand_initial"] * self.enclosure, [0.0]])
        out = []
        for k, kind in enumerate(protocol.kinds):
            t0, t1 = bounds[k], bounds[k + 1]
            temp = float(protocol.temperature_k[k])
            gen, ka, kd, k_hop, chance = self.coefficients(kind == "light", temp)
            kd = kd * v["k_desorption_per_h"] * np.exp(
                -v["Ea_desorption_kj_mol"] / R_KJ_MOL_K * (1 / temp - 1 / T_REF_K))
            sel = ((times > t0) | ((times == t0) & (k == 0))) & (times <= t1)
            wanted = times[sel]
            extra = not (wanted.size and wanted[-1] == t1)
            t_eval = np.append(wanted, t1) if extra else wanted  # the end carries the state
            sol = solve_ivp(self.rhs, (t0, t1), y, method="BDF", t_eval=t_eval, rtol=rtol,
                            atol=atol, args=(gen, ka * v["k_adsorption_per_h"], kd,
                                             v["k_trap_nonradiative_per_ns"], k_hop,
                                             chance))
            states = sol.y[:, :-1] if extra else sol.y
            kr = self.p["k_radiative_per_ns"]
            pl = kr / (kr + self.p["k_nonradiative_per_ns"]
                       + v["k_trap_nonradiative_per_ns"] * (1 - states[: self.nz]))
            out.append((self.probe[:, None] * pl).sum(0) / self.probe.sum())
            y = sol.y[:, -1]
        return np.concatenate(out)


def scenario(name):
    asm = jaxnc.Assembly.supercrystal(4, 4, 2)
    true = jaxnc.Parameters.hashimoto2024()
    rates = ["k_desorption_per_h", "k_adsorption_per_h", "k_trap_nonradiative_per_ns"]
    if name == "single":
        data = synthetic_dataset(asm, true, {"sample": "light 3h; dark 300h"},
                                 saves_per_step=SAVES)
        start = true.replace(**{n: 2 * float(getattr(true, n)) for n in rates})
        return asm, true, data, start, rates, []
    import fit_batch

    true, data, start = fit_batch.sixteen_samples(asm, "mean_field", SAVES)
    return asm, true, data, start, fit_batch.GLOBAL, ["coverage_initial"]


def jaxnc_loss(asm, data, params_by_sample):
    """Sum of squared residuals of jaxnc's model (default tolerances) at given parameters."""
    total = 0.0
    for curve in data.curves:
        sol = jaxnc.simulate(asm, params_by_sample[curve.sample], protocol_from_curve(curve),
                             model="mean_field", saves_per_step=SAVES)
        assert np.allclose(np.asarray(sol.time_h), curve.time_h)
        total += float(np.sum((np.asarray(sol.plqy) - curve.plqy) ** 2))
    return total


def run(name, rtol=1e-7, atol=1e-10):
    import lmfit

    asm, true, data, start, free, per_sample = scenario(name)
    ref = NumpyMeanField(asm, true)
    names = ["k_desorption_per_h", "k_adsorption_per_h", "k_trap_nonradiative_per_ns",
             "Ea_desorption_kj_mol", "coverage_initial"]

    def values_of(p):
        return {n: float(getattr(p, n)) for n in names}

    truth_by_sample = {c.sample: true.replace(coverage_initial=float(c.sample[-4:]))
                       if per_sample else true for c in data.curves}
    worst = max(np.max(np.abs(ref.predict(c, values_of(truth_by_sample[c.sample]), rtol, atol)
                              - jaxnc.simulate(asm, truth_by_sample[c.sample],
                                               protocol_from_curve(c), model="mean_field",
                                               saves_per_step=SAVES).plqy))
                for c in data.curves[:2])
    print(f"\n== {name}: {len(data.curves)} curve(s), {sum(map(len, data.curves))} points, "
          f"{len(free) + len(per_sample) * len(data.curves)} unknowns")
    print(f"NumPy RHS vs jaxnc at the truth: max |dPLQY| = {worst:.2e}")

    walls = []
    for _ in range(2):
        t0 = time.perf_counter()
        res = fit(data, asm, start, free, per_sample=per_sample, progress=False, rtol=rtol,
                  atol=atol)
        walls.append(time.perf_counter() - t0)

    params = lmfit.Parameters()
    for n in free:
        params.add(n, value=float(getattr(start, n)), min=0)
    for i, _ in enumerate(data.curves if per_sample else []):
        params.add(f"coverage_{i}", value=float(start.coverage_initial), min=1e-6, max=1 - 1e-6)
    base = values_of(start)

    def per_curve(pars):
        for i, c in enumerate(data.curves):
            v = dict(base, **{n: pars[n].value for n in free})
            if per_sample:
                v["coverage_initial"] = pars[f"coverage_{i}"].value
            yield c, v

    def residual(pars):
        return np.concatenate([ref.predict(c, v, rtol, atol) - c.plqy
                               for c, v in per_curve(pars)])

    t0 = time.perf_counter()
    out = lmfit.minimize(residual, params, method="leastsq")
    lmfit_s = time.perf_counter() - t0
    lmfit_loss = float(np.sum(out.residual**2))
    lm_params = {c.sample: start.replace(**v) for c, v in per_curve(out.params)}
    scored = jaxnc_loss(asm, data, lm_params)

    print(f"{'':28s} {'wall s':>8s} {'loss (own)':>12s} {'loss (jaxnc)':>13s} {'evals':>6s}")
    print(f"{'jaxnc lm, cold (compile)':28s} {walls[0]:8.2f} {res.loss:12.6e} {res.loss:13.6e} "
          f"{res.iterations:6d}")
    print(f"{'jaxnc lm, warm':28s} {walls[1]:8.2f}")
    print(f"{'lmfit leastsq + solve_ivp':28s} {lmfit_s:8.2f} {lmfit_loss:12.6e} {scored:13.6e} "
          f"{out.nfev:6d}")
    print(f"lmfit / jaxnc wall: {lmfit_s / walls[0]:.2f} cold, {lmfit_s / walls[1]:.1f} warm; "
          f"jaxnc loss / lmfit loss on jaxnc's model: {res.loss / scored:.8f}")
    for n in free:
        print(f"  {n:30s} truth {float(getattr(true, n)):.6g}  jaxnc {res.values[n]:.6g}  "
              f"lmfit {out.params[n].value:.6g}")
    return dict(scenario=name, points=int(sum(map(len, data.curves))),
                unknowns=len(free) + len(per_sample) * len(data.curves),
                jaxnc_cold_s=walls[0], jaxnc_warm_s=walls[1], jaxnc_loss=res.loss,
                jaxnc_iterations=res.iterations, lmfit_s=lmfit_s, lmfit_loss_own=lmfit_loss,
                lmfit_loss_jaxnc_model=scored, lmfit_evaluations=int(out.nfev))


def write_spec(path, asm, params, free, start) -> None:
    """The arrays and coefficients `_lmfit_process.py` needs, so that it imports no JAX."""
    import json

    ref = NumpyMeanField(asm, params)
    coefficients = {f"{int(light)},{T_REF_K:.2f}": [np.asarray(c).tolist() if np.ndim(c)
                                                    else float(c)
                                                    for c in ref.coefficients(light, T_REF_K)]
                    for light in (True, False)}
    names = ["k_desorption_per_h", "k_adsorption_per_h", "k_trap_nonradiative_per_ns",
             "Ea_desorption_kj_mol", "coverage_initial"]
    meta = dict(params=ref.p, coefficients=coefficients, free=free,
                start={n: float(getattr(start, n)) for n in names})
    np.savez(path, weight=ref.weight, area=ref.area, open=ref.open, confined=ref.confined,
             enclosure=ref.enclosure, links=ref.links, probe=ref.probe,
             meta=np.asarray(json.dumps(meta)))


def _timed(cmd, env=None):
    import subprocess

    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    return wall, r.stdout


def fit_argv(tmp, free, start) -> list[str]:
    """The `jaxnc fit` arguments of the single scenario: data in `tmp`, 4x4x2 supercrystal,
    the free rates started at `start`, one start (as lmfit makes)."""
    sets = [a for n in free for a in ("--set", f"{n}={float(getattr(start, n))!r}")]
    return ["fit", str(tmp / "data.csv"), "--out", str(tmp / "fit.json"), "--free",
            ",".join(free), "--nx", "4", "--ny", "4", "--nz", "2", "--starts", "1", "--quiet",
            *sets]


def run_processes(repeats: int) -> dict:
    """Whole-process wall times of `jaxnc fit` (cold and warm cache) and of lmfit."""
    import json
    import os
    import statistics
    import sys
    import tempfile
    from pathlib import Path

    asm, _, data, start, free, _ = scenario("single")
    here = Path(__file__).parent
    with tempfile.TemporaryDirectory(prefix="fit-vs-lmfit-") as tmp:
        tmp = Path(tmp)
        data.to_csv(tmp / "data.csv")
        write_spec(tmp / "spec.npz", asm, start, free, start)
        lmfit_cmd = [sys.executable, str(here / "_lmfit_process.py"), str(tmp / "spec.npz"),
                     str(tmp / "data.csv")]
        jaxnc_cmd = [sys.executable, "-m", "jaxnc", *fit_argv(tmp, free, start)]
        lmfit_runs, cold, warm = [], [], []
        for i in range(repeats):
            wall, out = _timed(lmfit_cmd)
            lmfit_runs.append(wall)
            env = dict(os.environ, JAXNC_CACHE_DIR=str(tmp / f"cache{i}"))
            cold.append(_timed(jaxnc_cmd, env)[0])
            warm.append(_timed(jaxnc_cmd, env)[0])
            print(f"run {i + 1}/{repeats}: lmfit {lmfit_runs[-1]:.2f} s, jaxnc cold "
                  f"{cold[-1]:.2f} s, warm {warm[-1]:.2f} s", flush=True)
        lm = json.loads(out)
        jx = json.loads((tmp / "fit.json").read_text())
    med = statistics.median
    result = dict(scenario="single", repeats=repeats, lmfit_s=med(lmfit_runs),
                  jaxnc_cold_s=med(cold), jaxnc_warm_s=med(warm), lmfit_runs_s=lmfit_runs,
                  jaxnc_cold_runs_s=cold, jaxnc_warm_runs_s=warm, lmfit_loss=lm["loss"],
                  jaxnc_loss=jx["loss"], lmfit_evaluations=lm["evaluations"],
                  jaxnc_iterations=jx["iterations"])
    print(f"\nwhole processes, median of {repeats}: lmfit {result['lmfit_s']:.2f} s, jaxnc "
          f"cold {result['jaxnc_cold_s']:.2f} s, warm {result['jaxnc_warm_s']:.2f} s")
    print(f"jaxnc / lmfit: cold {result['jaxnc_cold_s'] / result['lmfit_s']:.2f}, warm "
          f"{result['jaxnc_warm_s'] / result['lmfit_s']:.2f}; losses: jaxnc {jx['loss']:.6e}, "
          f"lmfit {lm['loss']:.6e} (each on its own integrator)")
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", choices=("single", "joint16", "both"), default="both")
    ap.add_argument("--processes", action="store_true",
                    help="whole processes, cold and warm (single scenario)")
    ap.add_argument("--repeats", type=int, default=3, help="with --processes (default 3)")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    if args.processes:
        results = run_processes(args.repeats)
    else:
        names = ("single", "joint16") if args.scenario == "both" else (args.scenario,)
        results = dict(results=[run(n) for n in names])
    if args.json:
        from jaxnc.runtime import write_json_atomic

        write_json_atomic(args.json, results)


if __name__ == "__main__":
    main()
