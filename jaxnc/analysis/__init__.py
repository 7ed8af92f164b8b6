"""Analysis layer: model-free kinetics of measured curves, as the paper analyses them. Rate laws
(pseudo-second-order, first-order) fitted to each dark decay, Arrhenius across temperatures,
and the Gauss–Newton covariance that gives their error bars (and those of model fits)."""

from ._kinetics import LAWS, DecayFit, KineticsResult, arrhenius_fit, fit_decay, kinetics
from ._least_squares import gauss_newton_covariance

__all__ = ["LAWS", "DecayFit", "KineticsResult", "arrhenius_fit", "fit_decay", "kinetics",
           "gauss_newton_covariance"]
