"""Hashimoto et al., Nanoscale Adv. 2024, 6, 5563: the numbers the paper states, and the
settings of the experiments that reproduce them."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np

__all__ = ["reference", "CYCLE", "DECAY_TEMPERATURES_K", "SAVES", "ACTION_WAVELENGTHS_NM",
           "DOSE_IRRADIANCES_MW_CM2", "SPECTRAL_KEY", "DECAY_TIMES_NS"]

CYCLE = "light 468nm 3h; dark 600h"
DECAY_TEMPERATURES_K = (298.15, 308.15, 318.15, 328.15)
# One number of saves for every two-step run (the activation runs and the decays): the same
# compiled program serves them all.
SAVES = 301
#: The action spectrum's wavelengths (nm) and the dose curve's irradiances (mW/cm²).
ACTION_WAVELENGTHS_NM = tuple(float(w) for w in range(400, 545, 10))
DOSE_IRRADIANCES_MW_CM2 = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
#: The PRNG key of the edge-length draw (9.8 +- 1.1 nm, the paper's TEM) of the spectral states.
SPECTRAL_KEY = 0
#: The PL decay times (ns) of the reproduction's decay figure.
DECAY_TIMES_NS = tuple(float(t) for t in np.linspace(0.0, 100.0, 201))


def reference() -> dict:
    """The paper's stated numbers: `reference.json` beside this module, a copy of the
    reference file the project was given with the paper (`hashimoto2024_reference.json`)."""
    text = resources.files(__package__).joinpath("reference.json").read_text()
    return json.loads(text)
