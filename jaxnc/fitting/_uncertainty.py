"""Uncertainty of fitted parameters: the Gauss–Newton (Laplace) approximation at the optimum."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax.numpy as jnp
import numpy as np

from ..analysis import gauss_newton_covariance

if TYPE_CHECKING:
    from ._problem import ResidualProblem


def _laplace(r, jac, n_points: int, problem: ResidualProblem, z,
             resolution: float) -> tuple[list[float], np.ndarray, list[int], list[np.ndarray]]:
    """Gauss–Newton standard errors (natural units), correlation matrix, the columns the
    data leave undetermined and the unresolved directions (unit vectors in the transformed
    space, one per direction), at `z`.

    `s^2 (J^T J)^-1` in the transformed space, `s^2` the residual variance with `n_points - p`
    degrees of freedom, mapped to natural units by the delta method. `J^T J` is inverted
    through the singular values of `J` with its columns scaled to unit length: a direction
    whose singular value is below `resolution` times the largest is not resolved by the
    Jacobian (which is only accurate to about the solver's tolerance), so the data do not
    determine it. Every parameter with weight in such a direction gets an infinite standard
    error (and NaN correlations) and is listed, rather than the direction being dropped as a
    pseudo-inverse would, which made undetermined parameters look pinned.
    """
    p = jac.shape[1]
    s2 = float(r @ r) / max(n_points - p, 1)
    cov_z, undetermined, directions = gauss_newton_covariance(jac, s2, resolution)
    zg, zs = problem.split(jnp.asarray(z))
    scale = [float(t.derivative(zg[i])) for i, t in enumerate(problem.transforms)]
    for j in range(problem.n_samples):
        scale += [float(t.derivative(zs[j, i])) for i, t in enumerate(problem.sample_transforms)]
    scale = np.asarray(scale)
    cov = cov_z * np.outer(scale, scale)
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    sd[undetermined] = np.inf
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    corr[undetermined, :] = np.nan
    corr[:, undetermined] = np.nan
    return sd.tolist(), corr, undetermined.tolist(), directions
