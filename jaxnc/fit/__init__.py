"""Fit layer: measured data, gradient-based parameter fits, kinetics analysis (pseudo-second-
order / first-order rate laws, Arrhenius)."""

from ._data import Curve, Dataset
from ._fit import FitResult, Transform, fit, protocol_from_curve
from ._kinetics import LAWS, DecayFit, KineticsResult, arrhenius_fit, fit_decay, kinetics
from ._priors import Prior
from ._profile import ProfileResult, profile
from ._reproduce import Reproduction, hashimoto2024, reference_hashimoto2024
from ._sample import PosteriorResult, sample
from ._synthetic import synthetic_dataset

__all__ = [
    "Curve", "Dataset", "FitResult", "Transform", "fit", "protocol_from_curve",
    "synthetic_dataset", "LAWS", "DecayFit", "KineticsResult", "arrhenius_fit", "fit_decay",
    "kinetics", "Reproduction", "hashimoto2024", "reference_hashimoto2024", "ProfileResult",
    "profile", "sample", "PosteriorResult", "Prior",
]
