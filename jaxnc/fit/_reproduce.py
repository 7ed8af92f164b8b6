"""Reproduce the numbers of Hashimoto et al. (Nanoscale Adv. 2024, 6, 5563) with the model.

`hashimoto2024(model)` runs the paper's experiments on the default parameter set and returns
the simulations, the kinetics analysis of simulated dark decays and a table: every number the
paper states beside the model's, with the difference. The paper's numbers are read from
`jaxnc/data/hashimoto2024_reference.json` (a copy of the project's reference file).
"""

from __future__ import annotations

import dataclasses
import json
from importlib import resources

import equinox as eqx
import numpy as np

from ..geometry import Assembly
from ..parameters import Parameters
from ._data import Curve, Dataset
from ._kinetics import KineticsResult, kinetics

__all__ = ["Reproduction", "hashimoto2024", "reference_hashimoto2024", "dark_decay_kinetics",
           "activation_times", "spectral_assemblies", "spectral_states", "state_optics"]

CYCLE = "light 468nm 3h; dark 600h"
DECAY_TEMPERATURES_K = (298.15, 308.15, 318.15, 328.15)
# One number of saves for every two-step run (the activation runs and the decays): the same
# compiled program serves them all.
SAVES = 301
#: The action spectrum's wavelengths (nm) and the dose curve's irradiances (mW/cm²).
ACTION_WAVELENGTHS_NM = tuple(float(w) for w in range(400, 545, 10))
DOSE_IRRADIANCES_MW_CM2 = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)


def reference_hashimoto2024() -> dict:
    """The paper's stated numbers (the JSON shipped with jaxnc)."""
    text = resources.files("jaxnc").joinpath("data/hashimoto2024_reference.json").read_text()
    return json.loads(text)


@dataclasses.dataclass
class Reproduction:
    """**Fields:** `solutions` (`{name: Solution}`: `3d`, `isolated`, `2d`, `cycles`,
    `decay_<T>K`, `long_term`), `kinetics` (PSO fits of the simulated decays and their
    Arrhenius line), `rows` (the comparison table: dicts with `quantity`, `unit`, `paper`,
    `model`, `difference`, `note`), `model` (model name), `action` and `dose`
    (`activation_times` against wavelength at 10 mW/cm² and against irradiance at
    468 nm), `spectral` (`spectral_states`: the preparations' start spectra and the parts
    of the red shift), `decays` (`t_ns`, and the 3D array's normalised PL decay `dark` and
    after 3 h of light `lit`); `solutions` also holds `spectrum_3d_lit`."""

    solutions: dict
    kinetics: KineticsResult
    rows: list[dict]
    model: str
    action: dict | None = None
    dose: dict | None = None
    spectral: dict | None = None
    decays: dict | None = None

    def table_markdown(self) -> str:
        lines = ["| quantity | unit | paper | model | model - paper | note |",
                 "|---|---|---|---|---|---|"]
        for r in self.rows:
            lines.append("| " + " | ".join(_cell(r[k]) for k in (
                "quantity", "unit", "paper", "model", "difference", "note")) + " |")
        return "\n".join(lines) + "\n"


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _row(quantity, unit, paper, model, note=""):
    diff = model - paper if isinstance(paper, float) and model is not None else None
    return dict(quantity=quantity, unit=unit, paper=paper, model=model, difference=diff,
                note=note)


def dark_decay_kinetics(params: Parameters, model: str = "mean_field"):
    """The paper's Arrhenius analysis applied to the model: the 3D array lit for 3 h, then
    600 h of dark at each of `DECAY_TEMPERATURES_K`; pseudo-second-order fits of the dark
    PLQY decays and their Arrhenius line (`kin.arrhenius["Ea_kj_mol"]`, the apparent Ea).

    **Returns:** `(KineticsResult, {"decay_<T>K": Solution})`.
    """
    from ..solve import simulate

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


#: The PRNG key of the edge-length draw (9.8 +- 1.1 nm, the paper's TEM) of the spectral states.
SPECTRAL_KEY = 0
#: The PL decay times (ns) of the reproduction's decay figure.
DECAY_TIMES_NS = tuple(float(t) for t in np.linspace(0.0, 100.0, 201))


def spectral_assemblies() -> dict:
    """The four preparations with the paper's size spread (one fixed draw): isolated cubes
    (64), the 2D array (8x8), the 3D array (8x8x4) and the dispersion (64)."""
    import jax

    key = jax.random.PRNGKey(SPECTRAL_KEY)
    return {"isolated": Assembly.isolated(64, edge_sd_nm=1.1, key=key),
            "dispersion": Assembly.dispersion(64, edge_sd_nm=1.1, key=key),
            "2d": Assembly.monolayer(edge_sd_nm=1.1, key=key),
            "3d": Assembly.supercrystal(edge_sd_nm=1.1, key=key)}


def state_optics(model, assembly, params, grid, state=None) -> dict:
    """Observed `plqy`, `lifetime_ns`, `spectrum` on `grid`, `peak_nm` and `fwhm_nm` of
    `state` (a `State`; default the start state, the dark one), without a solve in time."""
    import jax.numpy as jnp

    out = _state_optics(model, assembly, params, jnp.asarray(grid, dtype=float), state)
    return dict(zip(("plqy", "lifetime_ns", "spectrum", "peak_nm", "fwhm_nm"),
                    (np.asarray(v) if i == 2 else float(v) for i, v in enumerate(out)),
                    strict=True))


@eqx.filter_jit
def _state_optics(model, assembly, params, grid, y):
    """[`state_optics`][]'s program, at module level so that calls with the same shapes share
    one compilation."""
    from ..physics.spectra import peak_and_fwhm_nm
    from ..solve._solution import spectrum_of_state

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
    from ..models import FieldModel, get_model
    from ..physics import ExcitonFieldOptics
    from ..physics.spectra import DEFAULT_GRID_NM
    from ..solve import simulate

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
    from ..solve import simulate

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


def hashimoto2024(model: str = "mean_field", progress=print) -> Reproduction:
    """Run the paper's experiments with `Parameters.hashimoto2024()` and compare.

    **Arguments:** `model` (`"mean_field"`, default, seconds; or `"field"`, minutes);
    `progress`: called with a line of text before each stage (None: silent).

    **Returns:** a [`Reproduction`][].
    """
    from ..solve import simulate

    say = progress or (lambda _msg: None)
    ref = reference_hashimoto2024()
    params = Parameters.hashimoto2024()
    sc, iso, mono = Assembly.supercrystal(), Assembly.isolated(), Assembly.monolayer()
    sols = {}
    say(f"[1/6] 3D array, isolated cubes and 2D array through '{CYCLE}' ({model})")
    sols["3d"] = simulate(sc, params, CYCLE, model=model, saves_per_step=SAVES)
    sols["isolated"] = simulate(iso, params, CYCLE, model=model, saves_per_step=SAVES)
    sols["2d"] = simulate(mono, params, CYCLE, model=model, saves_per_step=SAVES)
    say("[2/6] three light/dark cycles of the 3D array")
    sols["cycles"] = simulate(sc, params, "; ".join([CYCLE] * 3), model=model,
                              saves_per_step=201)
    say(f"[3/6] dark decays at {', '.join(f'{t:g}' for t in DECAY_TEMPERATURES_K)} K, "
        f"pseudo-second-order fits and Arrhenius")
    kin, decays = dark_decay_kinetics(params, model)
    sols.update(decays)
    say("[4/6] 6000 h of continuous light")
    sols["long_term"] = simulate(sc, params, "light 468nm 6000h", model=model,
                                 saves_per_step=201)
    say(f"[5/6] activation against wavelength ({ACTION_WAVELENGTHS_NM[0]:g}-"
        f"{ACTION_WAVELENGTHS_NM[-1]:g} nm at 10 mW/cm2) and irradiance "
        f"({DOSE_IRRADIANCES_MW_CM2[0]:g}-{DOSE_IRRADIANCES_MW_CM2[-1]:g} mW/cm2 at 468 nm)")
    action = activation_times(params, sc, wavelengths_nm=ACTION_WAVELENGTHS_NM, model=model)
    dose = activation_times(params, sc, irradiances_mw_cm2=DOSE_IRRADIANCES_MW_CM2,
                            model=model)
    say("[6/6] PL spectra of the four preparations (9.8 +- 1.1 nm cubes), the parts of the "
        "red shift, PL decays of the 3D array")
    spectral = spectral_states(params, model)
    sols["spectrum_3d_lit"] = spectral["lit_3d"]

    def plqy(name, k=0):
        return 100 * np.asarray(sols[name].plqy)[sols[name].step_slice(k)]

    light3d, dark3d = plqy("3d", 0), plqy("3d", 1)
    t_light = np.asarray(sols["3d"].time_h)[sols["3d"].step_slice(0)]
    rise = light3d - light3d[0]
    t95 = float(t_light[np.argmax(rise >= 0.95 * rise.max())])
    back = (light3d[-1] - dark3d[-1]) / (light3d[-1] - light3d[0])
    tau = np.asarray(sols["3d"].lifetime_ns)[sols["3d"].step_slice(0)]
    states, photo = ref["states"], ref["photoactivation"]
    lt = ref["lifetimes_ns"]
    maxima = [float(plqy("cycles", k).max()) for k in (0, 2, 4)]
    rows = [
        _row("initial PLQY, 3D array", "%", states["array_3d"]["plqy_percent"]["mean"],
             float(light3d[0]), "calibration target (one start state for every preparation)"),
        _row("initial PLQY, 2D array", "%", states["array_2d"]["plqy_percent"]["mean"],
             float(plqy("2d")[0]),
             "calibration target; ordering from exciton transfer and reabsorption"),
        _row("initial PLQY, isolated cubes", "%", states["isolated"]["plqy_percent"]["mean"],
             float(plqy("isolated")[0]),
             "calibration target; no transfer between cubes, no reabsorption"),
        _row("maximum PLQY under 468 nm light, 3D array", "%",
             photo["array_3d"]["plqy_max_percent"]["mean"], float(light3d.max()),
             "calibration target"),
        _row("time to the maximum, 3D array", "h", photo["array_3d"]["time_to_max_h"]["approx"],
             t95, "model: time to 95 % of the rise; paper: '~3 h'"),
        _row("rise under the same light, isolated cubes", "points", "trace",
             float(plqy("isolated").max() - plqy("isolated")[0]),
             "paper: 'only a trace'; calibration target read as ~1 point in 5 h"),
        _row("rise in 3 h of light, 2D array", "points", "increases",
             float(plqy("2d").max() - plqy("2d")[0]), "paper: Fig. S4, no number"),
        _row("way back to the start after 600 h dark, 3D array", "%", "~600 h time scale",
             float(100 * back), "calibration target: 90 % back after 600 h"),
        _row("spread of three cycle maxima, 3D array", "points", "repeatable",
             float(max(maxima) - min(maxima)), "paper: Fig. 4"),
        _row("apparent Ea of the PSO dark decay", "kJ/mol",
             float(ref["dark_recovery"]["activation_energy_kJ_per_mol"]),
             float(kin.arrhenius["Ea_kj_mol"]) if kin.arrhenius else None,
             f"PSO fits of simulated decays at {', '.join(f'{t:g}' for t in DECAY_TEMPERATURES_K)}"
             f" K; input Ea_desorption = {float(params.Ea_desorption_kj_mol):g}"),
        _row("average PL lifetime, 3D array in the dark", "ns", float(lt["array_3d_dark"]),
             float(tau[0]), "calibration target (exciton optics)"),
        _row("average PL lifetime, 3D array after light", "ns",
             float(lt["array_3d_after_irradiation"]), float(tau.max()),
             "calibration target; with the 68.3 % maximum it sets k_r"),
        _row("PLQY after 6000 h of continuous light, 3D array", "%",
             float(ref["long_term"]["array_3d"]["plqy_percent_approx"]),
             float(plqy("long_term")[-1]),
             "calibration target (photodegradation_per_photon); paper: '~60 %' (Fig. S8)"),
        _row("time to 90 % of the 3 h rise, 3D array", "h", "~3 h to the maximum",
             float(t_light[np.argmax(rise >= 0.9 * rise.max())]),
             "calibration target, read as 90 % of the rise in 1.5 h"),
    ]
    lam = action["wavelength_nm"]
    rise_530 = float(action["rise_3h_points"][lam == 530.0][0])
    rise_468 = float(dose["rise_3h_points"][dose["irradiance_mw_cm2"] == 10.0][0])
    irr = dose["irradiance_mw_cm2"]
    t90_1, t90_10 = (float(dose["t90_h"][irr == v][0]) for v in (1.0, 10.0))
    rows += [
        _row("rise in 3 h at 530 nm over the rise at 468 nm, 10 mW/cm2, 3D array", "ratio",
             "not stated", rise_530 / rise_468,
             "prediction: light beyond the absorption edge activates little (action spectrum)"),
        _row("t90 at 1 mW/cm2 over t90 at 10 mW/cm2, 468 nm, 3D array", "ratio", "not stated",
             t90_1 / t90_10, "prediction: activation follows the absorbed photons (dose "
             "curve); the paper states no irradiance, 10 mW/cm2 is assumed"),
    ]
    rows += _spectral_rows(ref, spectral, params)
    decay = np.asarray(spectral["lit_3d"].pl_decay(DECAY_TIMES_NS,
                                                   at=[0, spectral["lit_index"]]))
    decays = dict(t_ns=np.asarray(DECAY_TIMES_NS), dark=decay[0], lit=decay[1])
    return Reproduction(sols, kin, rows, model, action, dose, spectral, decays)


def _spectral_rows(ref, spectral, params) -> list[dict]:
    start, shares = spectral["states"], spectral["shares"]
    states = ref["states"]
    names = {"isolated": ("isolated cubes", "isolated", "calibration target (emission_bulk_ev)"),
             "dispersion": ("dispersion", "dispersion", "prediction (no coupling, no "
                            "reabsorption in a dilute dispersion)"),
             "2d": ("2D array", "array_2d", "calibration target (coupling_mev)"),
             "3d": ("3D array", "array_3d", "prediction")}
    rows = [_row(f"PL peak, {label}", "nm", float(states[key]["lambda_max_nm"]),
                 start[k]["peak_nm"], note) for k, (label, key, note) in names.items()]
    for k in ("2d", "3d"):
        sh = shares[k]
        rows.append(_row(f"parts of the {k.upper()} array's red shift: coupling / downhill "
                         f"transfer / reabsorption", "nm", "mini-bands",
                         f"{sh['coupling']:.2f} / {sh['downhill']:.2f} / "
                         f"{sh['reabsorption']:.2f}",
                         "each process on minus off (downhill: field model)"))
    rows += [
        _row("PL peak of the 3D array after 3 h of light minus before", "nm", 0.0,
             spectral["lit"]["peak_nm"] - start["3d"]["peak_nm"],
             "paper: unchanged (Fig. S5); prediction"),
        _row("PL FWHM, isolated cubes", "nm", "12-42 (CsPbX3)",
             start["isolated"]["fwhm_nm"],
             "literature: Protesescu et al., Nano Lett. 2015, 15, 3692 (recalled); paper: not "
             "stated; prediction"),
        _row("PLQY, dispersion", "%", float(states["dispersion"]["plqy_percent"]),
             100 * start["dispersion"]["plqy"],
             "calibration target (dispersion_free_ligand)"),
        _row("average PL lifetime, dispersion", "ns",
             float(ref["lifetimes_ns"]["dilute_dispersion"]),
             start["dispersion"]["lifetime_ns"],
             f"prediction: k_r = {float(params.k_radiative_per_ns):.4g} /ns, the films' "
             f"(one radiative rate)"),
    ]
    return rows
