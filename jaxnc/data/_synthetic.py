"""Synthetic data: curves simulated with known parameters plus noise, for testing fits: PLQY,
lifetimes, PL intensity in counts under the light, spectra."""

from __future__ import annotations

import equinox as eqx
import numpy as np

from ..errors import DataError
from ..geometry import Assembly
from ..parameters import Parameters
from ..protocol import Protocol
from ._dataset import Curve, Dataset

__all__ = ["synthetic_dataset", "OBSERVABLES"]

OBSERVABLES = ("plqy", "lifetime", "intensity", "spectrum")


def synthetic_dataset(
    assembly: Assembly | dict,
    params: Parameters | dict,
    protocols: dict,
    *,
    model: str = "mean_field",
    saves_per_step: int = 31,
    noise: float | dict = 0.01,
    seed: int = 0,
    lifetimes: bool = False,
    observe: tuple = ("plqy",),
    collection_factor: float = 1e-10,
    spectrum_nm=None,
) -> Dataset:
    """Simulate one curve per sample and add Gaussian noise.

    **Arguments:**

    - `assembly`: one [`Assembly`][] for all samples, or `{sample: Assembly}`.
    - `params`: one `Parameters` for all samples, or `{sample: Parameters}` (e.g. a different
      starting coverage per sample).
    - `protocols`: `{sample: Protocol or protocol text}`; their order is the dataset's order.
    - `saves_per_step`: rows per protocol step (evenly spaced, as `simulate` saves them).
    - `observe`: what the data hold, any of `"plqy"`, `"lifetime"`, `"intensity"` (PL counts
      under the light: `collection_factor` x PLQY x photons the film absorbs per second and cm²
      at the step's irradiance and wavelength; blank in dark steps), `"spectrum"` (the PL
      spectrum at `spectrum_nm`, at the first row and the end of every step, scaled to a
      maximum of 1e4 counts). `lifetimes=True` adds `"lifetime"`.
    - `noise`: one standard deviation for every kind, or `{kind: value}` (a kind not named:
      0.01): PLQY, lifetime and intensity relative (`value * (1 + noise * N(0, 1))`, PLQY
      clipped to [0, 1]), spectra a fraction of their maximum (added).
    - `seed`: NumPy seed of the noise.

    **Returns:** a [`Dataset`][] with `time_h`, `light`, `temperature_k` and the observed
    columns per curve, as `Dataset.from_csv` would read them (without PLQY: all NaN).
    """
    from ..models import get_model
    from ..solve import simulate

    observe = tuple(observe) + (("lifetime",) if lifetimes else ())
    unknown = [k for k in observe if k not in OBSERVABLES]
    if unknown:
        raise DataError(f"observe names {unknown}; choose from {', '.join(OBSERVABLES)}")
    if "spectrum" in observe and spectrum_nm is None:
        raise DataError("observe includes 'spectrum': give spectrum_nm (the wavelengths, nm)")
    sd = {k: (noise.get(k, 0.01) if isinstance(noise, dict) else float(noise))
          for k in OBSERVABLES}
    rng = np.random.default_rng(seed)
    curves = []
    for sample, proto in protocols.items():
        proto = Protocol.parse(proto) if isinstance(proto, str) else proto
        asm = assembly[sample] if isinstance(assembly, dict) else assembly
        p = params[sample] if isinstance(params, dict) else params
        sol = simulate(asm, p, proto, model=model, saves_per_step=saves_per_step)
        curves.append(_noisy_curve(str(sample), sol, get_model(model), asm, p, proto, observe,
                                   sd, rng, collection_factor, spectrum_nm))
    return Dataset(curves=tuple(curves), source="synthetic")


# Compiled: op by op the photons of every step took seconds.
_photons_per_step = eqx.filter_jit(lambda model, asm, params, proto:
                                   model.absorbed_photons_per_step(asm, params, proto))


def _noisy_curve(sample, sol, model, asm, p, proto, observe, sd, rng, collection_factor,
                 spectrum_nm) -> Curve:
    """One sample's curve from its solution: the observed columns with their noise."""
    clean = np.asarray(sol.plqy)
    step = np.asarray(sol.step_index)
    y = (np.clip(clean * (1 + sd["plqy"] * rng.standard_normal(clean.shape)), 0.0, 1.0)
         if "plqy" in observe else np.full(clean.shape, np.nan))
    tau = counts = nm = spectra = None
    if "lifetime" in observe:
        tau = np.asarray(sol.lifetime_ns)
        tau = tau * (1 + sd["lifetime"] * rng.standard_normal(tau.shape))
    if "intensity" in observe:
        photons = np.asarray(_photons_per_step(model, asm, p, proto.arrays))[step]
        counts = collection_factor * clean * photons
        counts = counts * (1 + sd["intensity"] * rng.standard_normal(clean.shape))
        counts = np.where(photons > 0, counts, np.nan)
    if "spectrum" in observe:
        nm = np.asarray(spectrum_nm, dtype=float)
        rows = sorted({0, *np.flatnonzero(np.diff(step) != 0).tolist(), clean.size - 1})
        spectra = np.full((clean.size, nm.size), np.nan)
        clean_spectra = np.asarray(sol.pl_spectrum(nm))[rows]
        clean_spectra = 1e4 * clean_spectra / clean_spectra.max(axis=1, keepdims=True)
        spectra[rows] = clean_spectra + 1e4 * sd["spectrum"] * rng.standard_normal(
            clean_spectra.shape)
    temps = np.asarray(proto.temperature_k)[step]
    return Curve(sample=sample, time_h=np.asarray(sol.time_h, dtype=float), plqy=y,
                 light=np.asarray(sol.light, dtype=float), temperature_k=temps,
                 lifetime_ns=tau, intensity=counts, spectrum_nm=nm, spectrum=spectra)
