"""The lmfit side of `fit_vs_lmfit.py --processes`, as a process of its own: NumPy, SciPy and
lmfit only (no JAX, no jaxnc), so that its wall time is what an experimentalist's script
costs.

    python benchmarks/_lmfit_process.py SPEC.npz DATA.csv

`SPEC.npz` holds the mean-field model's fixed arrays and coefficients, exported by
`fit_vs_lmfit.py` from jaxnc (the same equations as `NumpyMeanField` there). Prints one JSON
line: the fitted values, the loss and the number of residual evaluations.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from scipy.integrate import solve_ivp

R_KJ_MOL_K = 8.314462618e-3
T_REF_K = 298.15
KEYS = ("weight", "area", "open", "confined", "enclosure", "links", "probe")


class MeanFieldRHS:
    """The mean-field vector field for one assembly, from the arrays of a spec file."""

    def __init__(self, spec: dict):
        for k in KEYS:
            setattr(self, k, np.asarray(spec[k]))
        self.p = spec["params"]
        self.coefficients_table = spec["coefficients"]  # {"light,T": [gen, ka, kd, hop, esc]}
        self.nz = len(self.weight)

    def coefficients(self, light: bool, temperature_k: float):
        gen, ka, kd, hop, chance = self.coefficients_table[f"{int(light)},{temperature_k:.2f}"]
        return np.asarray(gen), ka, kd, hop, chance

    def rhs(self, t, y, gen, k_a, k_d, k_tnr, k_hop, chance_confined):
        p, nz = self.p, self.nz
        th, q, c = y[:nz], y[nz:2 * nz], y[2 * nz:3 * nz]
        kr, knr = p["k_radiative_per_ns"], p["k_nonradiative_per_ns"]
        decay = np.maximum(kr + knr + k_tnr * (1 - th), 0.5 * (kr + knr))
        n = gen / decay * 1e-9
        dq = 3600 * (p["k_trap_per_s"] * n * (1 - q) - p["k_release_per_s"] * q)
        ads = k_a * (1 + p["charge_enhancement"] * q) * c * (1 - th)
        des = k_d * th**2
        flux = k_hop * self.links * (c[1:] - c[:-1])
        inflow = np.zeros(nz)
        inflow[:-1] += flux
        inflow[1:] -= flux
        chance = self.confined * chance_confined + (1 - self.confined)
        esc = chance * k_hop * self.open * c
        dc = self.area * (des - ads) + inflow / self.weight - esc
        return np.concatenate([ads - des, dq, dc, [np.sum(self.weight * esc)]])

    def predict(self, times, light, temps, v, rtol, atol):
        """PLQY at `times` (h) of a curve whose steps are runs of equal `light` and `temps`
        (a step ends at its last row, as `jaxnc.data.protocol_from_curve` reads it);
        `v`: k_des, k_ads, k_tnr, Ea_des, coverage_initial."""
        y = np.concatenate([np.full(self.nz, v["coverage_initial"]), np.zeros(self.nz),
                            self.p["free_ligand_initial"] * self.enclosure, [0.0]])
        ends = [i for i in range(len(times)) if i + 1 == len(times)
                or (light[i + 1], temps[i + 1]) != (light[i], temps[i])]
        out, start, t0 = [], 0, 0.0
        for end in ends:
            t1, temp = times[end], float(temps[end])
            gen, ka, kd, k_hop, chance = self.coefficients(light[end] == 1, temp)
            kd = kd * v["k_desorption_per_h"] * np.exp(
                -v["Ea_desorption_kj_mol"] / R_KJ_MOL_K * (1 / temp - 1 / T_REF_K))
            wanted = times[start:end + 1]
            sol = solve_ivp(self.rhs, (t0, t1), y, method="BDF", t_eval=wanted, rtol=rtol,
                            atol=atol, args=(gen, ka * v["k_adsorption_per_h"], kd,
                                             v["k_trap_nonradiative_per_ns"], k_hop,
                                             chance))
            kr = self.p["k_radiative_per_ns"]
            pl = kr / (kr + self.p["k_nonradiative_per_ns"]
                       + v["k_trap_nonradiative_per_ns"] * (1 - sol.y[: self.nz]))
            out.append((self.probe[:, None] * pl).sum(0) / self.probe.sum())
            y, start, t0 = sol.y[:, -1], end + 1, t1
        return np.concatenate(out)


def main(spec_path: str, data_path: str, rtol: float = 1e-7, atol: float = 1e-10) -> dict:
    import lmfit

    with np.load(spec_path) as f:
        spec = {k: f[k] for k in KEYS}
        meta = json.loads(str(f["meta"]))
    spec.update(params=meta["params"], coefficients=meta["coefficients"])
    model = MeanFieldRHS(spec)
    data = np.genfromtxt(data_path, delimiter=",", names=True, dtype=None, encoding=None)
    times, plqy = np.asarray(data["time_h"], float), np.asarray(data["plqy"], float)
    light = np.asarray(data["light"], int)
    temps = (np.asarray(data["temperature_k"], float) if "temperature_k" in data.dtype.names
             else np.full(len(times), T_REF_K))
    free, base = meta["free"], meta["start"]
    params = lmfit.Parameters()
    for n in free:
        params.add(n, value=base[n], min=0)

    def residual(pars):
        v = dict(base, **{n: pars[n].value for n in free})
        return model.predict(times, light, temps, v, rtol, atol) - plqy

    out = lmfit.minimize(residual, params, method="leastsq")
    return dict(values={n: out.params[n].value for n in free},
                loss=float(np.sum(out.residual**2)), evaluations=int(out.nfev))


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
