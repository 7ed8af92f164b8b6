"""Uncertainty of fitted parameters: the Gauss–Newton (Laplace) approximation at the optimum."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax.numpy as jnp
import numpy as np

if TYPE_CHECKING:  # kinetics uses this module without the model's imports
    from ._problem import _Problem


def _laplace(r, jac, n_points: int, problem: _Problem, z,
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


def gauss_newton_covariance(jac, s2: float, resolution: float):
    """`s2 (J^T J)^-1` through the SVD of `J` with unit-length columns, keeping what `J`
    resolves; returns `(cov, undetermined, directions)`.

    A direction whose singular value is below `resolution` times the largest is not resolved:
    every parameter with weight above `sqrt(resolution)` in it (a unit vector's components;
    below that it is round-off of the decomposition) gets an infinite variance and is listed
    in `undetermined`; `directions` are those directions as unit vectors in the parameters'
    own coordinates. A pseudo-inverse would drop them instead and report the undetermined
    parameters as pinned.
    """
    p = jac.shape[1]
    norms = np.linalg.norm(jac, axis=0)
    norms = np.where(norms > 0, norms, 1.0)
    _, sv, vt = np.linalg.svd(jac / norms, full_matrices=False)
    resolved = sv > resolution * sv[0] if sv.size and sv[0] > 0 else np.zeros(p, bool)
    if sv.size < p:  # fewer residuals than parameters: the rest is unresolved too
        resolved = np.concatenate([resolved, np.zeros(p - sv.size, bool)])
        _, _, vt = np.linalg.svd(jac / norms, full_matrices=True)
    v = vt[resolved]
    cov = s2 * (v.T / sv[resolved[: sv.size]] ** 2) @ v / np.outer(norms, norms)
    weight = np.sqrt(np.sum(vt[~resolved] ** 2, axis=0))
    undetermined = np.flatnonzero(weight > np.sqrt(resolution))
    cov[undetermined, undetermined] = np.inf
    # Null directions of the scaled J, taken back to the parameters (J D^-1 v = 0 means
    # J (D^-1 v) = 0).
    directions = [u / np.linalg.norm(u) for u in vt[~resolved] / norms]
    return cov, undetermined, directions
