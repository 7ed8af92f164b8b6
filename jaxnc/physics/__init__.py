"""Physics layer: one process per module, composed by `jaxnc.models`."""

from . import (
    adsorption,
    ageing,
    excitons,
    generation,
    optics,
    reabsorption,
    spectra,
    transfer,
    transport,
    trapping,
)
from .adsorption import (
    AbstractAdsorption,
    ChargedSiteAdsorption,
    ChargeEnhancedAdsorption,
    arrhenius,
    steric_factor,
)
from .ageing import AbstractAgeing, PhotoDegradation
from .excitons import ExcitonFieldOptics
from .generation import AbstractGeneration, BeerLambertGeneration, photon_flux_cm2_s
from .optics import AbstractOptics, QuasiStaticOptics
from .transport import AbstractTransport, HinderedLatticeDiffusion, hindrance
from .trapping import AbstractTrapCharging, SurfaceTrapCharging

__all__ = [
    "adsorption", "ageing", "excitons", "generation", "optics", "reabsorption", "spectra",
    "transfer", "transport", "trapping",
    "AbstractOptics", "QuasiStaticOptics", "ExcitonFieldOptics",
    "AbstractAdsorption", "ChargeEnhancedAdsorption", "ChargedSiteAdsorption", "arrhenius",
    "steric_factor",
    "AbstractGeneration", "BeerLambertGeneration", "photon_flux_cm2_s",
    "AbstractTransport", "HinderedLatticeDiffusion", "hindrance",
    "AbstractTrapCharging", "SurfaceTrapCharging",
    "AbstractAgeing", "PhotoDegradation",
]
