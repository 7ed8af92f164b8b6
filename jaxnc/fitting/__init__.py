"""Fitting layer: model parameters from measured curves. What each kind of data is compared
with and its noise (PLQY, lifetimes, PL intensity, spectra), the residual problem (curves
batched by assembly and protocol, residuals and their Jacobian through the solver), the optimisers
(Levenberg–Marquardt, Adam then L-BFGS) and their multi-start loop, the Gauss–Newton
(Laplace) uncertainty, the automatic free set, and profile likelihoods.

`jaxnc.fit` is the function [`fit`][jaxnc.fitting.fit]; this package is its home."""

from ._adam_lbfgs import AdamLBFGS, AdamLBFGSState
from ._auto import FreeChoice, choose_free, noise_level
from ._fit import check_fit_arguments, fit, problem_digest
from ._levenberg_marquardt import LevenbergMarquardt, LMState
from ._observations import KINDS, Noise, Observed, noise_levels, observed_group
from ._problem import ResidualProblem
from ._profile import CHI2_QUANTILES, ProfileResult, likelihood_interval, profile
from ._result import FitResult
from ._setup import FitProblem, fit_problem, fit_problem_of
from ._sharded import ShardedResiduals
from ._transforms import LogitTransform, LogTransform, ScaleTransform, Transform

__all__ = ["fit", "FitResult", "Transform", "profile", "ProfileResult", "fit_problem",
           "fit_problem_of", "FitProblem", "ResidualProblem", "check_fit_arguments",
           "problem_digest",
           "FreeChoice", "choose_free", "noise_level", "noise_levels", "Noise", "KINDS",
           "Observed", "observed_group",
           "likelihood_interval", "CHI2_QUANTILES",
           "LogTransform", "LogitTransform", "ScaleTransform", "LevenbergMarquardt", "LMState",
           "AdamLBFGS", "AdamLBFGSState", "ShardedResiduals"]
