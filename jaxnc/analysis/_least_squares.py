"""The Gauss–Newton covariance of a least-squares fit, with the directions its data leave
undetermined: the error bars of the kinetics fits here and of every model fit
(`jaxnc.fitting`)."""

from __future__ import annotations

import numpy as np

__all__ = ["gauss_newton_covariance"]


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
