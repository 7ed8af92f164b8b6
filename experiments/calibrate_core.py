"""Stage 1 of the calibration of `Parameters.hashimoto2024()` (scipy least squares).

Its k_trap_nonradiative_per_ns and free_ligand_initial are kept in the default set; the other
values it fits were refined by `experiments/calibrate_hashimoto2024.py` (stage 2, jaxnc.fit,
per-sample starting coverage), so rerunning this script starts from, and moves, those.

Targets (Hashimoto et al., Nanoscale Adv. 2024, 6, 5563; see data/hashimoto2024_reference.json):

- initial PLQY: 3D array 16.0 %, isolated 19.4 % (one shared initial state, so the fit settles
  between them);
- 3D array maximum under 468 nm light: 68.3 %, reached within ~3 h (PLQY at 3 h equals PLQY
  at 6 h within the tolerance), read as 90 % of the rise done at 1.5 h, half that time;
- dark decay over ~600 h: after 600 h in the dark the 3D array is back 90 % of the way to its
  starting PLQY ("decays gradually over 600 h");
- the starting state is the dark adsorption equilibrium: 600 h of dark from the start changes
  nothing.

Free: k_trap_nonradiative_per_ns, coverage_initial, charge_enhancement, k_adsorption_per_h,
k_desorption_per_h, free_ligand_initial, k_trap_per_s. escape_fraction is fixed at 1e-7,
where three light/dark cycles of the 8x8x4 supercrystal repeat their maximum within 0.2 points
(1e-6 lost 1.5 points per cycle). Fixed: k_radiative_per_ns (68.3 % / 22.6 ns) and
k_nonradiative_per_ns (PLQY 0.690 at full coverage). Model: mean_field on the default 8x8x4
supercrystal and 16 isolated cubes; Jacobian by forward-mode AD through the solver.

Run: `.venv/bin/python experiments/calibrate_core.py` (about a minute); it prints the fitted
values and the targets beside the model.
"""

from __future__ import annotations

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize

import jaxnc

SC = jaxnc.Assembly.supercrystal()
ISO = jaxnc.Assembly.isolated()
BASE = jaxnc.Parameters.hashimoto2024()
FREE = {
    "k_trap_nonradiative_per_ns": "log",
    "coverage_initial": "logit",
    "charge_enhancement": "log",
    "k_adsorption_per_h": "log",
    "k_desorption_per_h": "log",
    "free_ligand_initial": "log",
    "k_trap_per_s": "log",
}
KW = dict(model="mean_field", adjoint=diffrax.ForwardMode(), rtol=1e-8, atol=1e-11)
# Within these bounds (a factor e**3 ~ 20 either way of the start) every solve succeeds.


def to_params(z):
    values = {}
    for zi, (name, how) in zip(z, FREE.items(), strict=True):
        values[name] = jnp.exp(zi) if how == "log" else jax.nn.sigmoid(zi)
    return BASE.replace(**values)


def from_params(p):
    out = []
    for name, how in FREE.items():
        v = float(getattr(p, name))
        out.append(np.log(v) if how == "log" else np.log(v / (1 - v)))
    return np.array(out)


def observables(z):
    p = to_params(z)
    light = jaxnc.simulate(SC, p, "light 6h", saves_per_step=5, **KW).plqy  # 0, 1.5, 3, 4.5, 6 h
    cycle = jaxnc.simulate(SC, p, "light 3h; dark 600h", saves_per_step=2, **KW).plqy
    dark = jaxnc.simulate(SC, p, "dark 600h", saves_per_step=2, **KW).plqy
    iso = jaxnc.simulate(ISO, p, "light 5h", saves_per_step=2, **KW).plqy
    back = (cycle[1] - cycle[2]) / (cycle[1] - cycle[0])
    return dict(
        plqy0_3d=light[0], plqy0_iso=iso[0], plqy_max_3d=light[2], plqy_6h_3d=light[4],
        rise_done_1p5h=(light[1] - light[0]) / (light[2] - light[0]),
        back_after_600h=back, dark_drift=dark[-1] - dark[0], iso_rise=iso[-1] - iso[0],
    )


def residuals(z):
    o = observables(z)
    return jnp.stack([
        (o["plqy0_3d"] - 0.160) / 0.02,
        (o["plqy0_iso"] - 0.194) / 0.02,
        (o["plqy_max_3d"] - 0.683) / 0.003,
        (o["plqy_6h_3d"] - o["plqy_max_3d"]) / 0.003,
        (o["back_after_600h"] - 0.90) / 0.02,
        (o["rise_done_1p5h"] - 0.90) / 0.02,
        o["dark_drift"] / 0.003,
    ])


def main():
    res = jax.jit(residuals)
    jac = jax.jit(jax.jacfwd(residuals))
    z0 = from_params(BASE)
    fit = scipy.optimize.least_squares(
        lambda z: np.asarray(res(z)), z0, jac=lambda z: np.asarray(jac(z)), method="trf",
        bounds=(z0 - 3.0, z0 + 3.0), xtol=1e-10, ftol=1e-10, verbose=1,
    )
    p = to_params(fit.x)
    print(f"status {fit.status}: {fit.message}; cost {fit.cost:.3e}")
    for name in FREE:
        print(f"{name:30s} {float(getattr(p, name)):.6g}")
    for k, v in observables(fit.x).items():
        print(f"{k:20s} {float(v):.4f}")


if __name__ == "__main__":
    main()
