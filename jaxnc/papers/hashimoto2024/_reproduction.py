"""Reproduce the numbers of Hashimoto et al. (Nanoscale Adv. 2024, 6, 5563) with the model.

[`reproduce`][jaxnc.papers.hashimoto2024.reproduce] runs the paper's experiments on the
default parameter set and returns the simulations, the kinetics analysis of simulated dark
decays and a table: every number the paper states beside the model's, with the difference.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ...analysis import KineticsResult
from ...geometry import Assembly
from ...parameters import Parameters
from ...solve import simulate
from ._experiments import activation_times, dark_decay_kinetics, spectral_states
from ._reference import (
    ACTION_WAVELENGTHS_NM,
    CYCLE,
    DECAY_TEMPERATURES_K,
    DECAY_TIMES_NS,
    DOSE_IRRADIANCES_MW_CM2,
    SAVES,
    reference,
)
from ._rows import comparison_rows

__all__ = ["Reproduction", "reproduce"]


@dataclasses.dataclass
class Reproduction:
    """What [`reproduce`][jaxnc.papers.hashimoto2024.reproduce] returns.

    **Fields:** `solutions` (`{name: Solution}`: `3d`, `isolated`, `2d`, `cycles`,
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


def reproduce(model: str = "mean_field", progress=print) -> Reproduction:
    """Run the paper's experiments with `Parameters.hashimoto2024()` and compare.

    **Arguments:** `model` (`"mean_field"`, default, seconds; or `"field"`, minutes);
    `progress`: called with a line of text before each stage (None: silent).

    **Returns:** a [`Reproduction`][].
    """
    say = progress or (lambda _msg: None)
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
    rows = comparison_rows(reference(), sols, kin, action, dose, spectral, params)
    decay = np.asarray(spectral["lit_3d"].pl_decay(DECAY_TIMES_NS,
                                                   at=[0, spectral["lit_index"]]))
    decays = dict(t_ns=np.asarray(DECAY_TIMES_NS), dark=decay[0], lit=decay[1])
    return Reproduction(sols, kin, rows, model, action, dose, spectral, decays)
