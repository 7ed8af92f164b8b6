"""Convergence diagnostics of MCMC draws: rank-normalised split R-hat and bulk / tail effective
sample sizes (Vehtari, Gelman, Simpson, Carpenter and Bürkner, Bayesian Analysis 16, 667
(2021), 10.1214/20-BA1221; the estimators of Stan and ArviZ). NumPy only.

Every function takes the draws of one quantity as `(chains, draws)`.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

__all__ = ["rhat", "ess_bulk", "ess_tail", "ess"]


def _split(x: np.ndarray) -> np.ndarray:
    """Each chain cut into its first and second half (`(2 chains, draws // 2)`)."""
    x = np.asarray(x, float)
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)


def _rank_normalise(x: np.ndarray) -> np.ndarray:
    """Normal scores of the pooled ranks (ties averaged; rejected proposals repeat values):
    `Phi^-1((r - 3/8) / (S + 1/4))`."""
    flat = x.ravel()
    values, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    first = np.cumsum(counts) - counts  # draws below each distinct value
    rank = first[inverse] + (counts[inverse] + 1) / 2.0
    p = (rank - 0.375) / (flat.size + 0.25)
    inv = NormalDist().inv_cdf
    return np.array([inv(v) for v in p]).reshape(x.shape)


def _rhat_plain(x: np.ndarray) -> float:
    n = x.shape[1]
    w = np.mean(np.var(x, axis=1, ddof=1))
    b = n * np.var(np.mean(x, axis=1), ddof=1)
    if w <= 0:
        return np.nan
    return float(np.sqrt(((n - 1) / n * w + b / n) / w))


def rhat(x) -> float:
    """Rank-normalised split R-hat: the larger of the bulk value (on the normal scores of the
    draws) and the tail value (on the scores of their distance from the median). 1 for
    chains that mix; the usual bar is < 1.01. NaN for a constant quantity."""
    s = _split(x)
    if np.ptp(s) == 0:
        return np.nan
    bulk = _rhat_plain(_rank_normalise(s))
    tail = _rhat_plain(_rank_normalise(np.abs(s - np.median(s))))
    return float(max(bulk, tail))


def _autocovariance(x: np.ndarray) -> np.ndarray:
    """Per-chain autocovariance (biased, by FFT), `(chains, draws)`."""
    n = x.shape[1]
    centred = x - x.mean(axis=1, keepdims=True)
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(centred, size, axis=1)
    return np.fft.irfft(f * np.conj(f), size, axis=1)[:, :n] / n


def ess(x) -> float:
    """Effective sample size of `(chains, draws)` draws: Geyer's initial positive sequence
    of paired autocorrelations, made monotone, the multi-chain estimator of Stan."""
    x = np.asarray(x, float)
    m, n = x.shape
    if n < 4 or np.ptp(x) == 0:
        return np.nan
    acov = _autocovariance(x)
    mean_var = np.mean(acov[:, 0]) * n / (n - 1)
    var_plus = mean_var * (n - 1) / n + (np.var(x.mean(axis=1), ddof=1) if m > 1 else 0.0)
    rho = np.zeros(n)
    rho[0] = 1.0
    even, odd = 1.0, 1.0 - (mean_var - np.mean(acov[:, 1])) / var_plus
    rho[1] = odd
    t = 1
    while t < n - 3 and even + odd > 0:
        even = 1.0 - (mean_var - np.mean(acov[:, t + 1])) / var_plus
        odd = 1.0 - (mean_var - np.mean(acov[:, t + 2])) / var_plus
        if even + odd >= 0:
            rho[t + 1], rho[t + 2] = even, odd
        t += 2
    last = t - 2
    if even > 0:  # the last even term improves the estimate (Stan, ArviZ)
        rho[last + 1] = even
    t = 1
    while t <= last - 2:  # initial monotone sequence
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
            rho[t + 1] = rho[t + 2] = (rho[t - 1] + rho[t]) / 2.0
        t += 2
    tau = -1.0 + 2.0 * np.sum(rho[: last + 1]) + np.sum(rho[last + 1: last + 2])
    total = m * n
    tau = max(tau, 1.0 / np.log10(total))
    return float(total / tau)


def ess_bulk(x) -> float:
    """Bulk effective sample size: `ess` of the rank-normalised split chains."""
    s = _split(x)
    return np.nan if np.ptp(s) == 0 else ess(_rank_normalise(s))


def ess_tail(x) -> float:
    """Tail effective sample size: the smaller `ess` of the indicators of the 5 % and 95 %
    quantiles."""
    s = _split(x)
    if np.ptp(s) == 0:
        return np.nan
    lo, hi = np.quantile(s, [0.05, 0.95])
    return float(min(ess((s <= lo).astype(float)), ess((s <= hi).astype(float))))
