"""Inference layer: the posterior of a fit's parameters. Priors from each parameter's source,
the No-U-Turn sampler through the solver (Stan-style warm-up, chains advanced in chunks with
checkpoints), and the convergence diagnostics (rank-normalised split R-hat, bulk and tail
ESS)."""

from ._diagnostics import ess, ess_bulk, ess_tail, rhat
from ._nuts import run_chains, schedule
from ._priors import Prior, default_prior, resolve_priors
from ._sample import PosteriorResult, sample

__all__ = ["sample", "PosteriorResult", "Prior", "default_prior", "resolve_priors", "rhat",
           "ess", "ess_bulk", "ess_tail", "run_chains", "schedule"]
