"""jaxnc's fitter against what an experimentalist would use today: lmfit (least squares with a
finite-difference Jacobian) driving `scipy.integrate.solve_ivp` on the same mean-field
equations, written in NumPy here.

    .venv/bin/pip install lmfit        # optional benchmark dependency ([bench] extra)
    .venv/bin/python benchmarks/fit_vs_lmfit.py [--noise 0.01] [--seed 0]

Both start from the same point (each free parameter x2 off the truth) on the same synthetic
data (default parameters, 4x4x2 supercrystal, "light 3h; dark 300h", 1 % noise) and report
wall time (jaxnc's includes its compilation, reported apart too) and final loss (sum of
squared PLQY residuals). The NumPy right-hand side mirrors `jaxnc/models/_base.py` for the
mean-field cells; its agreement with jaxnc at the true parameters is printed first.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.integrate import solve_ivp

import jaxnc
from jaxnc.fit import Dataset, fit
from jaxnc.models import get_model

FREE = ("k_desorption_per_h", "k_adsorption_per_h", "k_trap_nonradiative_per_ns")
PROTOCOL = "light 3h; dark 300h"


class NumpyMeanField:
    """The mean-field vector field in NumPy, for the given assembly and fixed parameters."""

    def __init__(self, asm, params):
        model = get_model("mean_field")
        cells = model.cells(asm, params)
        self.p = params.to_dict()
        self.weight = np.asarray(cells.weight)
        self.area = np.asarray(cells.area)
        self.open = np.asarray(cells.open_faces)
        self.confined = np.asarray(cells.confined)
        self.enclosure = np.asarray(cells.enclosure)
        self.links = np.asarray(cells.links[0])
        self.probe = np.asarray(model.probe_weight(cells, asm, params))
        light = model.coefficients(cells, asm, params, 468.0, 10.0, 298.15)
        self.gen_light = np.asarray(light.generation_per_s)
        # At 298.15 K the Arrhenius factors are 1; keep jaxnc's geometry factors.
        self.dilution_times_ka_over_ka = float(light.k_ads_per_h) / self.p["k_adsorption_per_h"]
        self.steric = float(light.k_des_per_h) / self.p["k_desorption_per_h"]
        self.k_hop = float(light.k_hop_per_h)
        self.nz = len(self.weight)

    def y0(self):
        p = self.p
        return np.concatenate([np.full(self.nz, p["coverage_initial"]), np.zeros(self.nz),
                               p["free_ligand_initial"] * self.enclosure, [0.0]])

    def rhs(self, t, y, gen, k_d, k_a, k_tnr):
        p, nz = self.p, self.nz
        th, q, c = y[:nz], y[nz:2 * nz], y[2 * nz:3 * nz]
        kr, knr = p["k_radiative_per_ns"], p["k_nonradiative_per_ns"]
        decay = np.maximum(kr + knr + k_tnr * (1 - th), 0.5 * (kr + knr))
        n = gen / decay * 1e-9
        dq = 3600 * (p["k_trap_per_s"] * n * (1 - q) * (1 - th) - p["k_release_per_s"] * q)
        ads = (k_a * self.dilution_times_ka_over_ka * np.exp(p["charge_enhancement"]
               * np.minimum(q, 2.0)) * c * (1 - th))
        des = k_d * self.steric * th**2
        flux = self.k_hop * self.links * (c[1:] - c[:-1])
        inflow = np.zeros(nz)
        inflow[:-1] += flux
        inflow[1:] -= flux
        chance = self.confined * p["escape_fraction"] + (1 - self.confined)
        esc = chance * self.k_hop * self.open * c
        dc = self.area * (des - ads) + inflow / self.weight - esc
        return np.concatenate([ads - des, dq, dc, [np.sum(self.weight * esc)]])

    def plqy(self, th, k_tnr):
        p = self.p
        kr = p["k_radiative_per_ns"]
        pl = kr / (kr + p["k_nonradiative_per_ns"] + k_tnr * (1 - th))
        return (self.probe[:, None] * pl).sum(0) / self.probe.sum()

    def predict(self, times, light_end_h, total_h, k_d, k_a, k_tnr, rtol, atol):
        y = self.y0()
        out = []
        for t0, t1, gen in ((0.0, light_end_h, self.gen_light),
                            (light_end_h, total_h, 0 * self.gen_light)):
            sel = (times > t0) | ((times == t0) & (t0 == 0.0))
            sel &= times <= t1
            wanted = times[sel]
            extra = not (wanted.size and wanted[-1] == t1)
            t_eval = np.append(wanted, t1) if extra else wanted  # the end carries the state
            sol = solve_ivp(self.rhs, (t0, t1), y, method="BDF", t_eval=t_eval,
                            args=(gen, k_d, k_a, k_tnr), rtol=rtol, atol=atol)
            states = sol.y[:, :-1] if extra else sol.y
            out.append(self.plqy(states[: self.nz], k_tnr))
            y = sol.y[:, -1]
        return np.concatenate(out)


def main():
    import lmfit

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--noise", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    asm = jaxnc.Assembly.supercrystal(4, 4, 2)
    true = jaxnc.Parameters.hashimoto2024()
    sol = jaxnc.simulate(asm, true, PROTOCOL, model="mean_field", saves_per_step=31)
    times = np.asarray(sol.time_h)
    rng = np.random.default_rng(args.seed)
    y = np.asarray(sol.plqy) * (1 + args.noise * rng.standard_normal(times.size))
    path = "/tmp/jaxnc_fit_vs_lmfit.csv"
    rows = ["time_h,plqy,light"] + [f"{t!r},{v!r},{lt}" for t, v, lt in
                                    zip(times.tolist(), y.tolist(), sol.light, strict=True)]
    with open(path, "w") as fh:
        fh.write("\n".join(rows) + "\n")
    data = Dataset.from_csv(path)
    rtol, atol = 1e-7, 1e-10

    ref = NumpyMeanField(asm, true)
    truth = [float(getattr(true, n)) for n in FREE]
    check = ref.predict(times, 3.0, 303.0, *truth, rtol, atol)
    print(f"NumPy RHS vs jaxnc at the truth: max |dPLQY| = "
          f"{np.max(np.abs(check - np.asarray(sol.plqy))):.2e}")

    start = true.replace(**{n: 2 * v for n, v in zip(FREE, truth, strict=True)})
    t0 = time.perf_counter()
    res = fit(data, asm, start, list(FREE), model="mean_field", progress=False, rtol=rtol,
              atol=atol)
    jaxnc_s = time.perf_counter() - t0

    params = lmfit.Parameters()
    for n, v in zip(FREE, truth, strict=True):
        params.add(n, value=2 * v, min=0)

    def residual(pars):
        k = [pars[n].value for n in FREE]
        return ref.predict(times, 3.0, 303.0, *k, rtol, atol) - y

    t0 = time.perf_counter()
    out = lmfit.minimize(residual, params, method="leastsq")
    lmfit_s = time.perf_counter() - t0
    lmfit_loss = float(np.sum(out.residual**2))

    print(f"{'':10s} {'wall s':>8s} {'loss':>12s} {'evals':>6s}  values (truth: {truth})")
    print(f"{'jaxnc':10s} {jaxnc_s:8.1f} {res.loss:12.6e} {res.iterations:6d}  "
          f"{[round(res.values[n], 8) for n in FREE]}")
    print(f"{'lmfit':10s} {lmfit_s:8.1f} {lmfit_loss:12.6e} {out.nfev:6d}  "
          f"{[round(out.params[n].value, 8) for n in FREE]}")
    print(f"lmfit / jaxnc wall time = {lmfit_s / jaxnc_s:.2f}; "
          f"loss ratio jaxnc / lmfit = {res.loss / lmfit_loss:.6f}")


if __name__ == "__main__":
    main()
