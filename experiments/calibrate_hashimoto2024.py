"""Calibrate `Parameters.hashimoto2024()` with jaxnc's own fitter against the paper's numbers.

The paper (Hashimoto et al., Nanoscale Adv. 2024, 6, 5563; `jaxnc/papers/
hashimoto2024/reference.json`) states numbers, not curves. Each number becomes a point of a
small target data set, and one `jaxnc.fit` (Levenberg–Marquardt, forward sensitivities through
the solver, mean-field model, the default exciton optics) fits one parameter set and one
starting state to all of them:

sample `3d` (8x8x4 supercrystal), "dark 100h; light 3h; dark 600h; light 3h":

| t (h) | PLQY | lifetime | target |
|---|---|---|---|
| 0, 100 | 0.160 | 10.5 ns (t = 0) | initial PLQY and dark average lifetime; the start |
|        |       |                 | is the dark state (no change in 100 h of dark)     |
| 101.5 | 0.6307 | | "~3 h to the maximum", read as 90 % of the rise done in half that time |
| 103 | 0.683 | 22.6 ns | maximum after ~3 h of 468 nm light; lifetime after light |
| 703 | 0.2123 | | "decays over ~600 h", read as 90 % of the way back after 600 h |
| 706 | 0.683 | | on/off cycles repeat (Fig. 4) |

sample `isolated` (16 isolated cubes), "light 5h": 0.194 at 0 h (initial 19.4 %) and 0.204 at
5 h ("only a trace increase" under the same light, read as one point).

sample `2d` (8x8 monolayer), 1 h of dark: 0.181 at 0 and 1 h (initial 18.1 %; the paper gives
no other 2D number).

sample `3d_aged` (8x8x4), "light 6000h": 0.60 at 6000 h ("about 60 % under continuous
photoirradiation over 6000 h", Fig. S8).

All light is 468 nm at the assumed 10 mW/cm² (the paper states no irradiance).

Free (global, one set for every preparation): k_radiative_per_ns and
k_nonradiative_per_ns (the lit state's PLQY and lifetime, through the films' photon
recycling), k_trap_nonradiative_per_ns and coverage_initial (the start state: the three
initial PLQYs and the dark lifetime), k_adsorption_per_h, k_desorption_per_h (rise, maximum,
dark decay), photodegradation_per_photon (the 6000 h point), reabsorption_path_factor (the
films' reabsorption lowers their observed PLQY and lengthens their lifetime). There is no
per-sample starting coverage: the ordering isolated > 2D > 3D comes from exciton transfer and
reabsorption.

Fixed, and why:
- traps_per_cube (an estimate): the start state shows only traps_per_cube (1 - coverage).
- k_trap_per_s (an estimate): with the irradiance unknown, only k_trap_per_s times the
  irradiance is seen; it is set so that trap charging is half saturated at the default.
- charge_enhancement (an estimate, 1.3e5): under light only its product with
  k_adsorption_per_h is seen; a fit with both free slid along that product to 3e12 and 1e-13
  /h (same loss, infinite standard errors).
- forster_radius_nm and charged_trap_quenching: at their calibration before reabsorption was
  modelled; with reabsorption free the start state cannot tell transfer from reabsorption
  (R0 went to 0), and f_q went to 1 (no isolated trace) to lower the isolated cubes' start.
- free_ligand_initial: only its product with k_adsorption_per_h is seen by these numbers.
- escape_fraction and the rest as sourced in `jaxnc/parameters/_sets.py`.

Then the spectra (`calibrate_spectra`): emission_bulk_ev, coupling_mev and
dispersion_free_ligand from the isolated cubes' 513 nm, the 2D array's 519 nm (9.8 +- 1.1 nm
cubes, one fixed draw) and the dispersion's 64.9 %. The 3D array's 528 nm and the
dispersion's 515 nm and 15.2 ns are left as predictions. `--rounds` alternates the two fits
(the spectral parameters move the kinetics only through downhill transfer: a second round
moved the kinetic values by < 0.01 % and the weakly determined reabsorption path by 4 %,
inside its +-5; the default set is from one round).

Then, separately: Ea_desorption_kj_mol. The paper's 42.1 kJ/mol is the *apparent* Ea of
pseudo-second-order fits of PLQY decays at several temperatures. With the exciton optics the
PLQY is not linear in the coverage, so the model's apparent Ea (the same analysis of its own
dark decays, `jaxnc.papers.hashimoto2024.dark_decay_kinetics`) differs from its input. The input is
set by a secant iteration until the apparent Ea is 42.1 (rates are referenced to 298.15 K, so
this leaves the fit above unchanged).

PLQY residuals are fractions; lifetime residuals enter as 0.01 per ns (1 ns like 1 PLQY point,
`jaxnc.fit`'s default `lifetime_weight_per_ns`).

Run: `.venv/bin/python experiments/calibrate_hashimoto2024.py [--json out.json] [--rounds 1]`
(about 3 minutes on 2 cores per round). It prints the fitted values with standard errors,
every target beside the mean-field model, and the start state of the `field` model; the
figure is every target beside the calibrated model (DIR/targets.json). `--quick` fits
nothing: it sets the calibrated set (`Parameters.hashimoto2024()`) against every target.
"""

from __future__ import annotations

import _gallery
import numpy as np

import jaxnc
from jaxnc.data import Curve, Dataset, protocol_from_curve
from jaxnc.plot import save_figure, subplots
from jaxnc.runtime import write_json_atomic

RISE = 0.160 + 0.9 * (0.683 - 0.160)
BACK = 0.160 + 0.1 * (0.683 - 0.160)
NAN = float("nan")
TARGETS = {
    # sample: (times h, PLQY, light 0/1 per row, lifetime ns or NaN)
    "3d": ([0.0, 100.0, 101.5, 103.0, 703.0, 706.0], [0.160, 0.160, RISE, 0.683, BACK, 0.683],
           [0, 0, 1, 1, 0, 1], [10.5, NAN, NAN, 22.6, NAN, NAN]),
    "isolated": ([0.0, 5.0], [0.194, 0.204], [1, 1], [NAN, NAN]),
    "2d": ([0.0, 1.0], [0.181, 0.181], [0, 0], [NAN, NAN]),
    "3d_aged": ([6000.0], [0.60], [1], [NAN]),
}
ASSEMBLIES = {"3d": jaxnc.Assembly.supercrystal(), "isolated": jaxnc.Assembly.isolated(),
              "2d": jaxnc.Assembly.monolayer(), "3d_aged": jaxnc.Assembly.supercrystal()}
FREE = ["k_radiative_per_ns", "k_nonradiative_per_ns",
        "k_trap_nonradiative_per_ns", "coverage_initial",
        "k_adsorption_per_h", "k_desorption_per_h",
        "photodegradation_per_photon", "reabsorption_path_factor"]


def target_dataset() -> Dataset:
    curves = []
    for sample, (t, y, light, tau) in TARGETS.items():
        curves.append(Curve(sample, np.asarray(t), np.asarray(y), light=np.asarray(light, float),
                            temperature_k=np.full(len(t), 298.15),
                            lifetime_ns=np.asarray(tau, float)))
    return Dataset(tuple(curves), source="hashimoto2024 stated numbers")


PAPER_EA_KJ_MOL = 42.1
# The spectral targets: lambda_max (nm) of the start (dark) state of each preparation, with
# the paper's TEM size spread (9.8 +- 1.1 nm, one fixed draw: the reproduction's
# `spectral_assemblies`), and the dispersion's PLQY.
SPECTRAL = {"isolated": 513.0, "2d": 519.0}  # the 3D array's 528 nm is left as a prediction
DISPERSION_PLQY = 0.649
SPECTRAL_FREE = ("emission_bulk_ev", "coupling_mev", "dispersion_free_ligand")


def spectral_state(params):
    """Start-state `(peak nm, PLQY, lifetime ns)` of every preparation, mean-field model."""
    from jaxnc.models import get_model
    from jaxnc.papers.hashimoto2024 import spectral_assemblies, state_optics
    from jaxnc.physics.spectra import DEFAULT_GRID_NM

    grid, model = np.linspace(*DEFAULT_GRID_NM), get_model("mean_field")
    out = {}
    for name, asm in spectral_assemblies().items():
        o = state_optics(model, asm, params, grid)
        out[name] = (o["peak_nm"], o["plqy"], o["lifetime_ns"])
    return out


def calibrate_spectra(params):
    """E_bulk, the coupling and the dispersion's free ligand from the isolated cubes' and the
    2D array's peaks and the dispersion's PLQY (three equations, three unknowns; least
    squares, 1 nm like 1 PLQY point)."""
    from scipy import optimize

    logs = ("dispersion_free_ligand", "coupling_mev")

    def unpack(x):
        return params.replace(**{n: float(np.exp(v) if n in logs else v)
                                 for n, v in zip(SPECTRAL_FREE, x, strict=True)})

    def residuals(x):
        s = spectral_state(unpack(x))
        return np.array([s[k][0] - v for k, v in SPECTRAL.items()]
                        + [100 * (s["dispersion"][1] - DISPERSION_PLQY)])

    x0 = [float(np.log(getattr(params, n)) if n in logs else getattr(params, n))
          for n in SPECTRAL_FREE]
    fit = optimize.least_squares(residuals, x0, diff_step=1e-4, x_scale="jac")
    out = unpack(fit.x)
    print("spectral calibration:", ", ".join(f"{n} {float(getattr(out, n)):.5g}"
                                             for n in SPECTRAL_FREE))
    for name, (peak, plqy, tau) in spectral_state(out).items():
        want = SPECTRAL.get(name)
        print(f"  {name:10s} peak {peak:7.2f} nm" + (f" (target {want:g})" if want else "")
              + f"   PLQY {100 * plqy:6.2f} %   lifetime {tau:5.2f} ns")
    return out


def calibrate_activation_energy(params, tol_kj_mol: float = 0.02):
    """Secant on Ea_desorption until the apparent Ea of the model's PSO fits is 42.1."""
    from jaxnc.papers.hashimoto2024 import dark_decay_kinetics

    def apparent(ea):
        kin, _ = dark_decay_kinetics(params.replace(Ea_desorption_kj_mol=ea))
        return float(kin.arrhenius["Ea_kj_mol"])

    x0, x1 = PAPER_EA_KJ_MOL, PAPER_EA_KJ_MOL - 1.0
    f0, f1 = apparent(x0) - PAPER_EA_KJ_MOL, apparent(x1) - PAPER_EA_KJ_MOL
    at_paper = f0 + PAPER_EA_KJ_MOL  # what the paper's value as input gives
    while abs(f1) > tol_kj_mol:
        x0, x1, f0 = x1, x1 - f1 * (x1 - x0) / (f1 - f0), f1
        f1 = apparent(x1) - PAPER_EA_KJ_MOL
    print(f"Ea_desorption_kj_mol {x1:.5g}: apparent Ea of the PSO dark decays "
          f"{f1 + PAPER_EA_KJ_MOL:.4g} kJ/mol (paper 42.1; input 42.1 gives {at_paper:.4g})")
    return params.replace(Ea_desorption_kj_mol=x1)


def kinetic_fit(data, params):
    # A fraction at its bound (a previous round's optimum) cannot start a logit transform.
    params = params.replace(charged_trap_quenching=min(float(params.charged_trap_quenching),
                                                       0.999))
    result = jaxnc.fit(data, ASSEMBLIES, params, FREE, model="mean_field", rtol=1e-8,
                       atol=1e-11, progress=True)
    print(f"loss {result.loss:.3e}, rmse {100 * result.rmse_plqy:.3f} PLQY points, "
          f"{result.iterations} iterations, {result.wall_s:.1f} s")
    for n in FREE:
        print(f"{n:30s} {result.values[n]:.6g} +- {result.stderr[n]:.2g}")
    return result


def main(argv: list[str] | None = None) -> int:
    ap = _gallery.parser(__doc__, "calibrate_hashimoto2024")
    ap.add_argument("--json", help="also write the last kinetic fit (FitResult.to_json) here "
                    "(every target with the model's value goes to DIR/targets.json)")
    ap.add_argument("--rounds", type=int, default=2,
                    help="alternations of the kinetic and the spectral fit (default 2)")
    args = ap.parse_args(argv)
    out = _gallery.outputs(args)
    data = target_dataset()
    params = jaxnc.Parameters.hashimoto2024()
    result = None
    if args.quick:
        print("quick: the calibrated set against every target (no fit)")
    else:
        for k in range(args.rounds):
            print(f"round {k + 1}: kinetic fit (jaxnc.fit)")
            result = kinetic_fit(data, params)
            print(f"round {k + 1}: spectral fit")
            params = calibrate_spectra(result.params)
        params = calibrate_activation_energy(params)
    rows = []
    for curve in data.curves:
        proto = protocol_from_curve(curve)
        sol = jaxnc.simulate(ASSEMBLIES[curve.sample], params, proto, model="mean_field",
                             saves_per_step=601)
        model = np.interp(curve.time_h, np.asarray(sol.time_h), np.asarray(sol.plqy))
        tau = np.interp(curve.time_h, np.asarray(sol.time_h), np.asarray(sol.lifetime_ns))
        for t, want, got, want_tau, got_tau in zip(curve.time_h, curve.plqy, model,
                                                   curve.lifetime_ns, tau, strict=True):
            line = (f"  {curve.sample:9s} t = {t:6.1f} h   target {100 * want:6.2f} %   model "
                    f"{100 * got:6.2f} %")
            rows.append((f"{curve.sample}, {t:g} h, PLQY (%)", 100 * want, 100 * got))
            if np.isfinite(want_tau):
                line += f"   lifetime target {want_tau:5.1f} ns   model {got_tau:5.2f} ns"
                rows.append((f"{curve.sample}, {t:g} h, lifetime (ns)", want_tau, got_tau))
            print(line)
    if not args.quick:
        print("field model, start state (t = 0):")
        for sample, asm in list(ASSEMBLIES.items())[:3]:
            sol = jaxnc.simulate(asm, params, "dark 1h", model="field", saves_per_step=2)
            off = jaxnc.simulate(asm, params.replace(forster_radius_nm=0.0), "dark 1h",
                                 model="field", saves_per_step=2)
            print(f"  {sample:9s} PLQY {100 * float(sol.plqy[0]):6.2f} %   lifetime "
                  f"{float(sol.lifetime_ns[0]):5.2f} ns   without transfer "
                  f"{100 * float(off.plqy[0]):6.2f} %")
    print("calibrated values:")
    for n in (*FREE, *SPECTRAL_FREE, "Ea_desorption_kj_mol"):
        print(f'    "{n}": {float(getattr(params, n)):.5g}')
    write_json_atomic(out / "targets.json", [dict(target=r[0], paper=r[1], model=r[2])
                                             for r in rows])
    if result is not None and args.json:
        write_json_atomic(args.json, result.to_json())
    plot_targets(rows, args.figure)
    print(f"wrote {args.figure}, {out / 'targets.json'}")
    return 0


def plot_targets(rows, path) -> None:
    """Every target beside the calibrated model (mean-field)."""
    fig, ax = subplots(figsize=(8, 0.3 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    ax.plot([r[1] for r in rows], y, "ks", ms=5, label="target (the paper's number)")
    ax.plot([r[2] for r in rows], y, "o", color="C1", ms=4, label="calibrated model")
    ax.set_yticks(y, [r[0] for r in rows], fontsize=7)
    ax.set_xlabel("PLQY (%) or lifetime (ns)")
    ax.set_title("calibration of Parameters.hashimoto2024(): targets and the fitted model",
                 fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)


if __name__ == "__main__":
    raise SystemExit(main())
