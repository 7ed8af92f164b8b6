"""Hashimoto et al., "Assembly-promoted repeatable enhancement of photoluminescence from cesium
lead tribromide nanocubes under light illumination", Nanoscale Adv. 2024, 6, 5563 (DOI
10.1039/d4na00665h): its stated numbers ([`reference`][]), the experiments run on
the model, the comparison table ([`reproduce`][]) and its figures ([`plot_reproduction`][])."""

from ._experiments import (
    activation_times,
    dark_decay_kinetics,
    spectral_assemblies,
    spectral_states,
    state_optics,
)
from ._figures import plot_reproduction
from ._reference import (
    ACTION_WAVELENGTHS_NM,
    CYCLE,
    DECAY_TEMPERATURES_K,
    DECAY_TIMES_NS,
    DOSE_IRRADIANCES_MW_CM2,
    SAVES,
    SPECTRAL_KEY,
    reference,
)
from ._reproduction import Reproduction, reproduce

__all__ = ["reproduce", "Reproduction", "reference", "plot_reproduction", "activation_times",
           "dark_decay_kinetics", "spectral_assemblies", "spectral_states", "state_optics",
           "CYCLE", "DECAY_TEMPERATURES_K", "SAVES", "ACTION_WAVELENGTHS_NM",
           "DOSE_IRRADIANCES_MW_CM2", "SPECTRAL_KEY", "DECAY_TIMES_NS"]
