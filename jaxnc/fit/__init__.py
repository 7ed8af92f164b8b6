"""Fit layer: measured data, kinetics analysis (pseudo-second-order / first-order, Arrhenius)."""

from ._data import Curve, Dataset
from ._kinetics import LAWS, DecayFit, KineticsResult, arrhenius_fit, fit_decay, kinetics

__all__ = ["Curve", "Dataset", "LAWS", "DecayFit", "KineticsResult", "arrhenius_fit",
           "fit_decay", "kinetics"]
