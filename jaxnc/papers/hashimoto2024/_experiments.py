"""The paper's experiments run on the model: dark decays at four temperatures and their
kinetics, activation against wavelength and irradiance, and the optics of each preparation's
states (PLQY, lifetime, spectrum without a solve in time)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ...analysis import kinetics
from ...data import Curve, Dataset
from ...geometry import Assembly
from ...models import FieldModel, get_model
from ...parameters import Parameters
from ...physics import ExcitonFieldOptics
from ...physics.spectra import DEFAULT_GRID_NM, peak_and_fwhm_nm
from ...solve import simulate, spectrum_of_state
from ._reference import CYCLE, DECAY_TEMPERATURES_K, SAVES, SPECTRAL_KEY

__all__ = ["dark_decay_kinetics", "spectral_assemblies", "state_optics", "spectral_states",
           "activation_times"]


def dark_decay_kinetics(params: Parameters, model: str = "mean_field"):
    """The paper's Arrhenius analysis applied to the model: the 3D array lit for 3 h, then
    600 h of dark at each of `DECAY_TEMPERATURES_K`; pseudo-second-order fits of the dark
    PLQY decays and their Arrhenius line (`kin.arrhenius["Ea_kj_mol"]`, the apparent Ea).

    **Returns:** `(KineticsResult, {"decay_<T>K": Solution})`.
    """

    sc = Assembly.supercrystal()
    curves, sols = [], {}
    for temp in DECAY_TEMPERATURES_K:
        sol = simulate(sc, params, f"light 468nm 3h; dark 600h at {temp}K", model=model,
                       saves_per_step=SAVES)
        sols[f"decay_{temp:g}K"] = sol
        dark = sol.step_slice(1)
        t = np.asarray(sol.time_h)[dark]
        curves.append(Curve(f"{temp:g} K", t, np.asarray(sol.plqy)[dark],
                            light=np.zeros(t.size), temperature_k=np.full(t.size, temp)))
    return kinetics(Dataset(tuple(curves), source="simulated dark decays"), law="pso"), sols


def spectral_assemblies() -> dict:
    """The four preparations with the paper's size spread (one fixed draw): isolated cubes
    (64), the 2D array (8x8), the 3D array (8x8x4) and the dispersion (64)."""
    key = jax.random.PRNGKey(SPECTRAL_KEY)
    return {"isolated": Assembly.isolated(64, edge_sd_nm=1.1, key=key),
            "dispersion": Assembly.dispersion(64, edge_sd_nm=1.1, key=key),
            "2d": Assembly.monolayer(edge_sd_nm=1.1, key=key),
            "3d": Assembly.supercrystal(edge_sd_nm=1.1, key=key)}


def state_optics(model, assembly, params, grid, state=None) -> dict:
    """Observed `plqy`, `lifetime_ns`, `spectrum` on `grid`, `peak_nm` and `fwhm_nm` of
    `state` (a `State`; default the start state, the dark one), without a solve in time."""
    out = _state_optics(model, assembly, params, jnp.asarray(grid, dtype=float), state)
    return dict(zip(("plqy", "lifetime_ns", "spectrum", "peak_nm", "fwhm_nm"),
                    (np.asarray(v) if i == 2 else float(v) for i, v in enumerate(out)),
                    strict=True))


@eqx.filter_jit
def _state_optics(model, assembly, params, grid, y):
    """[`state_optics`][]'s program, at module level so that calls with the same shapes share
    one compilation."""
    cells = model.cells(assembly, params)
    y = model.initial_state(cells, params) if y is None else y
    obs = model.observables(y, cells, model.probe_weight(cells, assembly, params), params)
    spectrum = spectrum_of_state(model, assembly, params, y.coverage, y.charge, y.damage, grid)
    peak, fwhm = peak_and_fwhm_nm(grid, spectrum)
    return obs["plqy"], obs["lifetime_ns"], spectrum, peak, fwhm


def spectral_states(params: Parameters, model: str = "mean_field") -> dict:
    """The start (dark) state of every preparation of [`spectral_assemblies`][]
    (`states[name]`: `plqy`, `lifetime_ns`, `spectrum` on `grid`, `peak_nm`, `fwhm_nm`); the
    3D array through the reproduction's light/dark cycle (`lit_3d`, a `Solution`; the end of
    its 3 h of 468 nm light at `lit_index`) and that state's optics (`lit`, as `states`);
    and the parts of the 2D and 3D arrays' red shift (`shares[name]
    [process]`, nm: the peak with the process on minus off, for "coupling", "reabsorption"
    and "downhill"; downhill transfer needs cubes of their own, so its part is the `field`
    model's whatever `model` is)."""
    grid = np.linspace(*DEFAULT_GRID_NM)
    m = get_model(model) if isinstance(model, str) else model
    assemblies = spectral_assemblies()
    states, shares = {}, {}
    for name, asm in assemblies.items():
        states[name] = state_optics(m, asm, params, grid)
        if name not in ("2d", "3d"):
            continue

        def peak(p, mod=m, a=asm):
            return state_optics(mod, a, p, grid)["peak_nm"]

        shares[name] = dict(
            coupling=states[name]["peak_nm"] - peak(params.replace(coupling_mev=0.0)),
            reabsorption=(states[name]["peak_nm"]
                          - peak(params.replace(reabsorption_path_factor=0.0))),
            downhill=peak(params, FieldModel()) - peak(params, FieldModel(
                optics=ExcitonFieldOptics(downhill=False))))
    # The reproduction's cycle and saves: the program its 3D run compiled already.
    run = simulate(assemblies["3d"], params, CYCLE, model=model, saves_per_step=SAVES)
    end = run.step_slice(0).stop - 1
    lit = state_optics(m, assemblies["3d"], params, grid, run.state_at(end))
    return dict(grid=grid, states=states, shares=shares, lit_3d=run, lit_index=end, lit=lit)


def _time_to_level(t, y, level):
    """First time `y` reaches `level` (linear between saves); NaN if it never does."""
    above = np.nonzero(y >= level)[0]
    if above.size == 0:
        return float("nan")
    i = int(above[0])
    if i == 0:
        return float(t[0])
    return float(t[i - 1] + (level - y[i - 1]) * (t[i] - t[i - 1]) / (y[i] - y[i - 1]))


def activation_times(params: Parameters, assembly=None, *, wavelengths_nm=(468.0,),
                     irradiances_mw_cm2=(10.0,), window_h: float = 1000.0,
                     model: str = "mean_field") -> dict:
    """Hours of continuous light until the PLQY has covered 90 % of the rise that the
    reference light (468 nm, 10 mW/cm², the default) gives the assembly (`t90`), for every
    (wavelength, irradiance) pair of the two lists (broadcast against each other: one of them
    may have length 1).

    The reference rise runs from the start to the highest PLQY within `window_h` hours of
    the reference light; `t90` is NaN where the PLQY does not reach that level within
    `window_h` (light absorbed too weakly). Each run is "light 10h; light <rest>h" (fine
    saves over the first 10 h) in the `mean_field` model by default, all with one program.

    **Returns:** `{"wavelength_nm", "irradiance_mw_cm2", "t90_h", "rise_3h_points"
    (PLQY gained in the first 3 h, points), "level_percent" (the PLQY the t90 refers to),
    "window_h"}`, arrays over the pairs.
    """

    asm = Assembly.supercrystal() if assembly is None else assembly
    lam, irr = np.broadcast_arrays(np.asarray(wavelengths_nm, float),
                                   np.asarray(irradiances_mw_cm2, float))

    def run(wavelength, irradiance):
        proto = (f"light {wavelength:g}nm {irradiance:g}mW/cm2 10h; light {wavelength:g}nm "
                 f"{irradiance:g}mW/cm2 {window_h - 10.0:g}h")
        sol = simulate(asm, params, proto, model=model, saves_per_step=501)
        return np.asarray(sol.time_h), 100 * np.asarray(sol.plqy)

    t_ref, y_ref = run(468.0, 10.0)
    level = y_ref[0] + 0.9 * (y_ref.max() - y_ref[0])
    t90, rise = [], []
    for wavelength, irradiance in zip(lam, irr, strict=True):
        t, y = run(float(wavelength), float(irradiance))
        t90.append(_time_to_level(t, y, level))
        rise.append(float(np.interp(3.0, t, y) - y[0]))
    return dict(wavelength_nm=lam, irradiance_mw_cm2=irr, t90_h=np.asarray(t90),
                rise_3h_points=np.asarray(rise), level_percent=float(level),
                window_h=float(window_h))
