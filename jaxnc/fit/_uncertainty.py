"""Uncertainty of fitted parameters: the Gauss–Newton (Laplace) approximation at the optimum."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ._problem import _Problem


def _laplace(r, jac, n_points: int, problem: _Problem, z) -> tuple[list[float], np.ndarray]:
    """Gauss–Newton standard errors (natural units) and correlation matrix at `z`.

    `s^2 (J^T J)^-1` in the transformed space, `s^2` the residual variance with `n_points - p`
    degrees of freedom, mapped to natural units by the delta method.
    """
    p = jac.shape[1]
    s2 = float(r @ r) / max(n_points - p, 1)
    cov_z = s2 * np.linalg.pinv(jac.T @ jac)
    zg, zs = problem.split(jnp.asarray(z))
    scale = [float(t.derivative(zg[i])) for i, t in enumerate(problem.transforms)]
    for j in range(problem.n_samples):
        scale += [float(t.derivative(zs[j, i])) for i, t in enumerate(problem.sample_transforms)]
    scale = np.asarray(scale)
    cov = cov_z * np.outer(scale, scale)
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    return sd.tolist(), corr
