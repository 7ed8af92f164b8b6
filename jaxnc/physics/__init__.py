"""Physics layer: one process per module, composed by `jaxnc.models`."""

from . import adsorption, generation, optics, transport, trapping
from .adsorption import AbstractAdsorption, ChargeEnhancedAdsorption, arrhenius, steric_factor
from .generation import AbstractGeneration, BeerLambertGeneration, photon_flux_cm2_s
from .transport import AbstractTransport, HinderedLatticeDiffusion, hindrance
from .trapping import AbstractTrapCharging, SurfaceTrapCharging

__all__ = [
    "adsorption", "generation", "optics", "transport", "trapping",
    "AbstractAdsorption", "ChargeEnhancedAdsorption", "arrhenius", "steric_factor",
    "AbstractGeneration", "BeerLambertGeneration", "photon_flux_cm2_s",
    "AbstractTransport", "HinderedLatticeDiffusion", "hindrance",
    "AbstractTrapCharging", "SurfaceTrapCharging",
]
